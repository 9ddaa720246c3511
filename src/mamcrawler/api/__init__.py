"""The REST API (R20): thin FastAPI routes around the services, one envelope for all."""
