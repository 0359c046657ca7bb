"""Evidence files: checked by content, stored once by SHA-256, thumbnails for images.

Called by `services.add_evidence` inside its transaction (the file is written first; a rolled
back transaction leaves at most an unreferenced file, never a row without its file).
"""

from __future__ import annotations

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


def _blob(data: bytes, inspected) -> Blob:
    existing = Blob.objects.filter(sha256=inspected.sha256).first()
    if existing is not None:
        return existing
    path = evidence_files.storage_path(inspected.sha256, inspected.extension)
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(data))
    thumb = ""
    if inspected.kind == "image":
        thumb_path = "thumbs/" + evidence_files.storage_path(inspected.sha256, "jpg")
        if not default_storage.exists(thumb_path):
            default_storage.save(thumb_path, ContentFile(evidence_files.thumbnail(data)))
        thumb = thumb_path
    try:
        with transaction.atomic():
            return Blob.objects.create(
                sha256=inspected.sha256,
                size=inspected.size,
                mime=inspected.mime,
                kind=inspected.kind,
                file=path,
                thumbnail=thumb,
            )
    except IntegrityError:  # the same file uploaded at the same moment by someone else
        return Blob.objects.get(sha256=inspected.sha256)


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
    except evidence_files.EvidenceRejected as exc:
        raise InvalidInput(
            str(MESSAGES.get(exc.code, exc.message)), code=f"EVIDENCE_{exc.code}", field="file"
        ) from None
    blob = _blob(data, inspected)
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
