"""Adapters: one module or package per external system."""
