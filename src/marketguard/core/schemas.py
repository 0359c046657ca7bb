from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, FilterLookup, FilterSchema, Schema
from ninja.pagination import PageNumberPagination
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# --- shared input types ------------------------------------------------------------------------

#: The times the API accepts. Outside, a time is a slip of the keyboard, and one near the ends of
#: the calendar cannot even be turned into UTC (year 1 at +14:00, year 9999 at -12:00).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _api_time(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise PydanticCustomError("datetime_out_of_range", _("Give a time between 1970 and 2099."))
    return value


#: A date and time in ISO 8601. Without a UTC offset it is the platform's local time (the TIME_ZONE
#: setting, Asia/Shanghai by default), as the marketplace's own records write it; from 1970 to 2099.
ApiDatetime = Annotated[datetime, AfterValidator(_api_time)]

#: The highest page number a list answers: a page past the last is empty; a number so large that
#: its offset overflows the database's integers is refused (422 naming `page`).
MAX_PAGE = 1_000_000


class BoundedPageNumberPagination(PageNumberPagination):
    """ninja's page-number pagination with the page number capped at MAX_PAGE."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1)


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    preferred_language: str
    merchant_external_id: str | None = Field(None, alias="merchant.external_id")
    lab_external_id: str | None = Field(None, alias="lab.external_id")


class MeIn(Schema):
    preferred_language: str = Field(..., max_length=20, description="zh-hans, en, or empty for none")


class AuditEntryOut(Schema):
    seq: int
    at: datetime
    actor_label: str
    via: str
    correlation_id: str
    object_type: str
    object_id: str
    object_repr: str
    action: str
    before: dict | None
    after: dict | None
    reason: str


class AuditFilter(FilterSchema):
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    actor: Annotated[str | None, FilterLookup("actor_label")] = None


class AuditProblemOut(Schema):
    seq: int
    kind: str
    detail: str


class AuditVerifyOut(Schema):
    ok: bool
    checked: int
    last_seq: int
    last_digest: str
    problems: list[AuditProblemOut]
