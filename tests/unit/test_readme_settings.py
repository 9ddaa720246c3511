"""The README's settings table is the settings class's (regenerate it with
`python -m mamcrawler.settings_doc`)."""

from pathlib import Path

from mamcrawler.settings_doc import replace_table, table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_setting_as_the_class_describes_it():
    text = README.read_text(encoding="utf-8")
    assert replace_table(text) == text, "run: python -m mamcrawler.settings_doc"


def test_the_table_marks_secrets_and_names_every_variable():
    rows = table().splitlines()[2:]
    assert any(r.startswith("| `MAM_ID` |") and r.endswith("(secret) |") for r in rows)
    assert not any("(secret)" in r for r in rows if r.startswith("| `MAM_URL` |"))
    assert all(r.count(" | ") == 2 and "None" not in r for r in rows)
