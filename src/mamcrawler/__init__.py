"""MAMcrawler: a self-hosted service that keeps an audiobook collection complete and an
account on the MyAnonamouse tracker healthy."""

__version__ = "0.1.0"
USER_AGENT = f"MAMcrawler/{__version__} (+self-hosted audiobook manager)"
