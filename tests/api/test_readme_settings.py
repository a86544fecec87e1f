"""The README's "Settings" table of the roster service lists every setting of api/config.py with its default."""

from __future__ import annotations

import re
from pathlib import Path

from api.config import Settings
from tests.helpers import ROOT


def _shown(value: object) -> str:
    """How the README writes a default: unset, true/false, 5,000, 30, a file name."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Path):
        return f"`{value}`"
    return str(value)


def _readme_settings() -> dict[str, str]:
    text = (Path(ROOT) / "README.md").read_text(encoding="utf-8")
    section = text[text.index("**Settings** (environment, prefix `HOMECARE_`"):]
    section = section[:section.index("\n\n", section.index("| Setting |"))]
    rows = re.findall(r"^\| `HOMECARE_([A-Z_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    return {name: default.strip() for name, default in rows}


def test_readme_settings_lists_every_setting_with_its_default():
    """Each field of Settings has a row `HOMECARE_<FIELD>` whose default is the field's; no row names
    a setting that does not exist."""
    listed = _readme_settings()
    fields = {name.upper(): info.default for name, info in Settings.model_fields.items()}
    assert set(listed) == set(fields), (sorted(set(fields) - set(listed)), sorted(set(listed) - set(fields)))
    for name, default in fields.items():
        assert listed[name].startswith(_shown(default)), (name, listed[name], _shown(default))
