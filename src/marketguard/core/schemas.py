from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema, Schema


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
