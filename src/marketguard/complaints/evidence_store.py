"""Evidence files: checked by content, stored once by SHA-256, thumbnails for images.

Called by `services.add_evidence` inside its transaction (the file is written first; a rolled
back transaction leaves at most an unreferenced file, never a row without its file).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketguard.complaints import evidence_files, materials
from marketguard.complaints.models import Blob, Evidence, Party
from marketguard.core.errors import InvalidInput

MESSAGES = {
    "EMPTY": gettext_lazy("The file is empty."),
    "TOO_LARGE": gettext_lazy("The file is too large."),
    "TYPE_NOT_ALLOWED": gettext_lazy(
        "This type of file is not accepted. Send photos, videos, PDF files or text."
    ),
    "TYPE_MISMATCH": gettext_lazy("The file's content does not match its name or type."),
    "IMAGE_UNREADABLE": gettext_lazy("The image cannot be read."),
    "IMAGE_TOO_LARGE_PIXELS": gettext_lazy("The image has too many pixels."),
}


#: the format of a copy without metadata (evidence_files.strip_metadata) by its first bytes
_SHOWN_FORMATS = ((b"\xff\xd8", "jpg", "image/jpeg"), (b"RIFF", "webp", "image/webp"))


def _extension_of(data: bytes) -> str:
    return next((ext for magic, ext, _mime in _SHOWN_FORMATS if data.startswith(magic)), "png")


def _save_once(path: str, data: bytes) -> str:
    """Files are named by their content: one already there is the same file."""
    return path if default_storage.exists(path) else default_storage.save(path, ContentFile(data))


def _save_shown(sha256: str, shown: bytes) -> str:
    return _save_once("shown/" + evidence_files.storage_path(sha256, _extension_of(shown)), shown)


def _blob(data: bytes, inspected) -> Blob:
    existing = Blob.objects.filter(sha256=inspected.sha256).first()
    if existing is not None:
        return existing
    thumb = shown = ""
    if inspected.kind == "image":
        # decoded in full before anything is written: a damaged picture is refused here
        shown_data, thumb_data = evidence_files.strip_metadata(data), evidence_files.thumbnail(data)
        shown = _save_shown(inspected.sha256, shown_data)
        thumb = _save_once("thumbs/" + evidence_files.storage_path(inspected.sha256, "jpg"), thumb_data)
    path = _save_once(evidence_files.storage_path(inspected.sha256, inspected.extension), data)
    try:
        with transaction.atomic():
            return Blob.objects.create(
                sha256=inspected.sha256,
                size=inspected.size,
                mime=inspected.mime,
                kind=inspected.kind,
                file=path,
                thumbnail=thumb,
                shown_file=shown,
            )
    except IntegrityError:  # the same file uploaded at the same moment by someone else
        return Blob.objects.get(sha256=inspected.sha256)


@dataclass(frozen=True)
class Download:
    file: File
    mime: str


def shown_to(blob: Blob, *, platform: bool) -> Download:
    """The file a reader gets: the original for the platform; for consumers and merchants, an
    image without its metadata (where the photo was taken, when, with what), made now for files
    stored before such copies were kept."""
    if platform or blob.kind != "image":
        return Download(blob.file, blob.mime)
    if not blob.shown_file:
        with blob.file.open("rb") as fh:
            shown = evidence_files.strip_metadata(fh.read())
        path = _save_shown(blob.sha256, shown)
        Blob.objects.filter(pk=blob.pk, shown_file="").update(shown_file=path)
        blob.shown_file = path
    return Download(blob.shown_file, _mime_of(blob.shown_file.name))


def _mime_of(path: str) -> str:
    ext = path.rsplit(".", 1)[-1]
    return next((mime for _magic, e, mime in _SHOWN_FORMATS if e == ext), "image/png")


def refuse_oversized(size: int | None) -> None:
    """Before an upload is read into memory: refuse one larger than any kind may be (each kind's
    own limit is checked on the content)."""
    if size is not None and size > evidence_files.DEFAULT_LIMITS.largest:
        raise InvalidInput(str(MESSAGES["TOO_LARGE"]), code="EVIDENCE_TOO_LARGE", field="file")


def check(filename: str, data: bytes, declared_type: str | None) -> None:
    """Refuse a file that :func:`store` would refuse for what it is (name, type by content,
    size, a damaged picture), before anything is written: the intake form checks its files this
    way so that a bad file does not leave a case filed without it."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    if not name:
        raise InvalidInput(_("The file needs a name."), field="file")
    refuse_oversized(len(data))
    try:
        inspected = evidence_files.inspect(data, filename=name, declared_type=declared_type)
        if inspected.kind == "image":  # decoded in full, as when stored: a picture cut short is refused
            evidence_files.strip_metadata(data)
    except evidence_files.EvidenceRejected as exc:
        raise InvalidInput(
            str(MESSAGES.get(exc.code, exc.message)), code=f"EVIDENCE_{exc.code}", field="file"
        ) from None


def store(
    *,
    case,
    actor,
    party: str,
    filename: str,
    data: bytes,
    declared_type: str | None,
    material_code: str,
    internal: bool,
) -> Evidence:
    if material_code and material_code not in materials.catalogue():
        raise InvalidInput(
            _("Unknown material: %(codes)s") % {"codes": material_code[:40]}, field="material_code"
        )
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    if not name:
        raise InvalidInput(_("The file needs a name."), field="file")
    try:
        inspected = evidence_files.inspect(data, filename=name, declared_type=declared_type)
        blob = _blob(data, inspected)
    except evidence_files.EvidenceRejected as exc:
        raise InvalidInput(
            str(MESSAGES.get(exc.code, exc.message)), code=f"EVIDENCE_{exc.code}", field="file"
        ) from None
    return Evidence.objects.create(
        case=case,
        blob=blob,
        filename=name,
        kind=inspected.kind,
        party=party if party in Party.values else Party.AGENT,
        uploaded_by=actor,
        material_code=(material_code or "")[:40],
        visibility=Evidence.Visibility.PLATFORM if internal else Evidence.Visibility.PARTIES,
    )
