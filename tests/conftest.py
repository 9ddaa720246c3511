"""Root fixtures. Every module in tests/support/ is loaded as a fixture plugin."""

from pathlib import Path

pytest_plugins = sorted(
    f"tests.support.{p.stem}"
    for p in (Path(__file__).parent / "support").glob("*.py")
    if p.stem != "__init__"
)
