"""German is complete: every translatable string of the project has a German translation.

makemessages runs on a copy of the source tree (so the working tree is never touched) and the
resulting catalogue must have no untranslated or fuzzy entry; the committed .mo must match the .po.
"""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale" / "de" / "LC_MESSAGES"
SOURCE_DIRS = ["deliberation", "forums", "consultations", "moderation", "templates"]


def _extract(tmp_path: Path, domain: str) -> Path:
    copy = tmp_path / "src"
    copy.mkdir()
    for name in [*SOURCE_DIRS, "manage.py", "locale"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, copy / name)
    args = [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete"]
    if domain == "djangojs":
        args += ["-d", "djangojs"]
    subprocess.run(args, cwd=copy, check=True, capture_output=True)
    return copy / "locale" / "de" / "LC_MESSAGES" / f"{domain}.po"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_of_the_project_has_a_german_translation(tmp_path, domain):
    require(shutil.which("xgettext") is not None, "gettext is not installed: apt install gettext")
    po_path = _extract(tmp_path, domain)
    if not po_path.exists():
        assert domain == "djangojs", "makemessages wrote no German catalogue"
        return
    catalogue = polib.pofile(str(po_path))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    missing += [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not missing, f"{len(missing)} strings lack German ({domain}.po):\n" + "\n".join(
        missing[:40]
    )


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_compiled_german_catalogue_matches_its_source(domain):
    po_path = LOCALE / f"{domain}.po"
    mo_path = LOCALE / f"{domain}.mo"
    if domain == "djangojs" and not po_path.exists():
        pytest.skip("the project has no JavaScript strings")
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages`"
    with mo_path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in polib.pofile(str(po_path)).translated_entries():
        if entry.msgid_plural:
            got = compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
            want = entry.msgstr_plural[0]
        elif entry.msgctxt:
            got, want = compiled.pgettext(entry.msgctxt, entry.msgid), entry.msgstr
        else:
            got, want = compiled.gettext(entry.msgid), entry.msgstr
        if got != want:
            stale.append(entry.msgid)
    assert not stale, f"{mo_path.name} is older than {po_path.name}: run `make messages`\n" + (
        "\n".join(stale[:20])
    )
