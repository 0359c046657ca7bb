"""Every user-facing string ships with its Simplified Chinese translation."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import marketguard

PO = Path(marketguard.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_the_catalogue_has_no_empty_or_fuzzy_entry():
    po = polib.pofile(str(PO))
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()][:20]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()][:20]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (make install provides it)")
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """Extract the strings from a copy of the code: a new string without translation fails here."""
    src = Path(marketguard.__file__).parent
    copy = tmp_path / "marketguard"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__", "tests", "testing", "*.mo"))
    env = {
        **os.environ,
        "MARKETGUARD_LOCALE_DIR": str(copy / "locale"),
        "MARKETGUARD_VAR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "marketguard.settings",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-location",
            "--no-obsolete",
            "--ignore",
            "*/tests/*",
            "--ignore",
            "*/testing/*",
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    po = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [
        e.msgid
        for e in po
        if "fuzzy" in e.flags or not (e.msgstr or (e.msgid_plural and all(e.msgstr_plural.values())))
    ]
    assert not missing, f"{len(missing)} string(s) without a Chinese translation, e.g. {missing[:10]}"
