"""Files of an e-mail the case did not take, held until an agent decides.

An e-mail refused because nothing showed it was the consumer's (it answers none of our mails,
or our mail server did not confirm the sender) may still be theirs: the agent reads it on the
timeline and may add it. Its attachments are held here meanwhile, as received and never served
to anyone (they have not been checked: they become evidence, checked like any upload, only when
the mail is added), then discarded once added, or by the sweep after the time kept.

Written before the transaction that records the refusal (a rolled back transaction leaves at
most files nobody refers to, discarded by age like the others). Each e-mail's files are in one
folder named by the time they were held (``held/20261206T142501-<token>/0``): the sweep ages
them by that name, so the time kept does not depend on the storage's clock or on a copy that
reset the files' times.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from marketguard.complaints import evidence_files

ROOT = "held"
#: at most this many files of one e-mail are held (the others are named only)
MAX_FILES = 20
#: at most this much is held for one case at a time, over all its refused e-mails: anyone can
#: write from a consumer's address, and what is held for them is kept for weeks
CASE_FILES = 40
CASE_BYTES = 200 * 1024 * 1024
#: how a folder's name starts: when its files were held, in UTC
STAMP = "%Y%m%dT%H%M%S"


def hold(
    attachments: Iterable,
    *,
    limits: evidence_files.Limits = evidence_files.DEFAULT_LIMITS,
    files_left: int = MAX_FILES,
    bytes_left: int = CASE_BYTES,
    now: datetime,
) -> list[dict]:
    """Store the files of one e-mail, received `now`; one entry per file: its name, declared
    type, size and where it is held ("" when it was not kept: empty, larger than any evidence may
    be, past the first MAX_FILES, or beyond what the case may still hold: `files_left`,
    `bytes_left`)."""
    token = f"{now.astimezone(UTC):{STAMP}}-{uuid.uuid4().hex}"
    held = []
    files_left = min(files_left, MAX_FILES)
    for att in attachments:
        name = evidence_files.safe_filename(att.filename or "", default="attachment")
        size = len(att.data)
        entry = {"name": name, "type": (att.content_type or "")[:100], "size": size, "path": ""}
        if files_left > 0 and 0 < size <= min(limits.largest, bytes_left):
            entry["path"] = default_storage.save(f"{ROOT}/{token}/{len(held)}", ContentFile(att.data))
            files_left -= 1
            bytes_left -= size
        held.append(entry)
    return held


def _inside(path: str) -> bool:
    parts = (path or "").split("/")
    return len(parts) == 3 and parts[0] == ROOT and all(p and p not in (".", "..") for p in parts[1:])


def read(path: str) -> bytes | None:
    """A held file's bytes, None when it is no longer held (discarded after the time kept)."""
    if not _inside(path) or not default_storage.exists(path):
        return None
    with default_storage.open(path, "rb") as f:
        return f.read()


def discard(paths: Iterable[str]) -> int:
    """Delete held files (and their folder once empty); how many were still there to delete.
    Idempotent, and safe while another worker deletes the same ones (each counts its own)."""
    folders, deleted = set(), 0
    for path in paths:
        if _inside(path):
            if default_storage.exists(path):
                default_storage.delete(path)
                deleted += 1
            folders.add(path.rsplit("/", 1)[0])
    for folder in folders:
        try:
            if not any(default_storage.listdir(folder)):
                default_storage.delete(folder)
        except OSError:  # gone already (FileNotFoundError), or refilled meanwhile
            continue
    return deleted


def held_at(folder: str) -> datetime | None:
    """When the files of a folder were held, from its name (None for a name without the time)."""
    try:
        return datetime.strptime(folder.split("-", 1)[0], STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def purge(*, older_than: datetime) -> int:
    """Discard every held file received before `older_than`; the number of files deleted.
    Safe with two workers at once (a file already gone is skipped)."""
    try:
        folders, _files = default_storage.listdir(ROOT)
    except FileNotFoundError:  # nothing was ever held
        return 0
    deleted = 0
    for folder in folders:
        at = held_at(folder)
        if at is not None and at >= older_than:
            continue
        try:
            names = default_storage.listdir(f"{ROOT}/{folder}")[1]
            old = [
                f"{ROOT}/{folder}/{n}"
                for n in names
                # a folder named without the time (held before names carried it): by file time
                if at is not None or default_storage.get_modified_time(f"{ROOT}/{folder}/{n}") < older_than
            ]
        except FileNotFoundError:  # discarded meanwhile
            continue
        deleted += discard(old)
    return deleted
