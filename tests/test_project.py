"""Project-wide invariants: migrations match the models, both languages ship complete."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

LOCALE = Path(__file__).resolve().parent.parent / "src" / "guanxi" / "locale"


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)


def _entries(po: Path):
    """(msgid, msgstr, fuzzy) for each entry of a .po file; plural forms joined."""
    entries, block = [], []
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            block.append(line)
            continue
        if block:
            entries.append(block)
            block = []
    parsed = []
    for lines in entries:
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        field, values = None, {"msgid": "", "msgstr": ""}
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith("msgid_plural"):
                field = "plural"
            elif line.startswith("msgid "):
                field = "msgid"
                values["msgid"] += line[6:].strip().strip('"')
            elif line.startswith("msgstr"):
                field = "msgstr"
                values["msgstr"] += line.split(" ", 1)[1].strip().strip('"')
            elif line.startswith('"') and field in ("msgid", "msgstr"):
                values[field] += line.strip('"')
        parsed.append((values["msgid"], values["msgstr"], fuzzy))
    return parsed


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_translations_are_complete(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    assert po.exists(), f"{po} is missing"
    assert (po.with_suffix(".mo")).exists(), "compile the catalogue (make messages)"
    def untranslated(msgid: str, msgstr: str, fuzzy: bool) -> bool:
        if not msgid:
            return False
        if fuzzy:
            return True
        # English is the source language: only Chinese source strings need an English msgstr.
        needs = True if language == "zh_Hans" else any("\u4e00" <= ch <= "\u9fff" for ch in msgid)
        return needs and not msgstr

    missing = [msgid for msgid, msgstr, fuzzy in _entries(po) if untranslated(msgid, msgstr, fuzzy)]
    assert missing == [], f"{len(missing)} untranslated strings in {language}: {missing[:10]}"
