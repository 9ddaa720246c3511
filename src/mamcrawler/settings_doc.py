"""The README's settings table, made from the settings class so the two cannot drift.

`python -m mamcrawler.settings_doc` rewrites the table in README.md (between its header row
and the first line after it that is not a table row); a test checks the README matches.
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path

from pydantic import SecretStr

from mamcrawler.config import Settings

HEADER = "| variable | default | what it is |\n|---|---|---|\n"
SCHEDULE_PREFIX = "schedule_"


def table() -> str:
    """The markdown table: one row per setting, in the class's order."""
    rows = [HEADER]
    for name, field in Settings.model_fields.items():
        env = (field.alias or name).upper()
        default = field.default
        shown = "" if default in (None, "") else f"`{default}`"
        text = field.description
        if text is None and name.startswith(SCHEDULE_PREFIX):
            job = name.removeprefix(SCHEDULE_PREFIX)
            text = f"when `{job}` runs (5-field crontab or `every 5m`)"
        if SecretStr in typing.get_args(field.annotation) or field.annotation is SecretStr:
            text = f"{text} (secret)"
        rows.append(f"| `{env}` | {shown} | {text} |\n")
    return "".join(rows)


def replace_table(readme: str) -> str:
    """The README text with its settings table replaced by `table()`."""
    start = readme.index(HEADER)
    end = start + len(HEADER)
    while readme.startswith("| `", end):
        end = readme.index("\n", end) + 1
    return readme[:start] + table() + readme[end:]


def main(path: str = "README.md") -> int:
    readme = Path(path)
    text = readme.read_text(encoding="utf-8")
    new = replace_table(text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        print(f"{path}: settings table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
