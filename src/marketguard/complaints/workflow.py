"""The case state machine: one transition table. Pure (no Django import).

`services.py` is the only caller: it checks `allowed(...)`, runs the transition's own guard
(deadlines, proposals, rulings), sets the status and writes the timeline event and the audit
record. `docs/workflows/complaints.md` is generated from this table (`mermaid()`).
"""

from __future__ import annotations

from dataclasses import dataclass

SUBMITTED = "submitted"
ACKNOWLEDGED = "acknowledged"
AWAITING_MERCHANT = "awaiting_merchant"
NEGOTIATING = "negotiating"
AGREED = "agreed"
ESCALATED = "escalated"
PLATFORM_REVIEW = "platform_review"
RULED = "ruled"
EXECUTING = "executing"
RESOLVED = "resolved"
CLOSED = "closed"
WITHDRAWN = "withdrawn"
REJECTED = "rejected"
MERGED = "merged"

STATES = (
    SUBMITTED,
    ACKNOWLEDGED,
    AWAITING_MERCHANT,
    NEGOTIATING,
    AGREED,
    ESCALATED,
    PLATFORM_REVIEW,
    RULED,
    EXECUTING,
    RESOLVED,
    CLOSED,
    WITHDRAWN,
    REJECTED,
    MERGED,
)
FINAL = frozenset({CLOSED, WITHDRAWN, REJECTED, MERGED})
#: States in which the case still needs work (SLA clocks run, duplicates are looked for).
OPEN = frozenset(STATES) - FINAL - {RESOLVED}
#: States in which the merchant has not yet answered.
WITH_MERCHANT = frozenset({AWAITING_MERCHANT})

CONSUMER, MERCHANT, AGENT, ARBITRATOR, SYSTEM = "consumer", "merchant", "agent", "arbitrator", "system"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    parties: frozenset[str]
    event: str  # past-tense timeline event type
    needs_reason: bool = False


def _t(name, sources, target, parties, event, needs_reason=False) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(parties), event, needs_reason)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("acknowledge", {SUBMITTED}, ACKNOWLEDGED, {AGENT}, "case_acknowledged"),
        _t(
            "route_to_merchant",
            {SUBMITTED, ACKNOWLEDGED},
            AWAITING_MERCHANT,
            {AGENT, SYSTEM},
            "case_routed_to_merchant",
        ),
        _t("merchant_respond", {AWAITING_MERCHANT}, NEGOTIATING, {MERCHANT}, "merchant_responded"),
        # (from the platform's hands only while the merchant's time to settle runs: a service guard)
        _t(
            "agree",
            {AWAITING_MERCHANT, NEGOTIATING, ESCALATED, PLATFORM_REVIEW},
            AGREED,
            {CONSUMER, MERCHANT},
            "agreement_reached",
        ),
        _t("auto_approve", {AWAITING_MERCHANT}, AGREED, {SYSTEM}, "approved_automatically"),
        _t("start_execution", {AGREED, RULED}, EXECUTING, {MERCHANT, AGENT, SYSTEM}, "remedy_started"),
        _t(
            "resolve",
            {EXECUTING, ACKNOWLEDGED, NEGOTIATING, RULED},
            RESOLVED,
            {AGENT, SYSTEM},
            "case_resolved",
        ),
        _t("close", {RESOLVED}, CLOSED, {CONSUMER, AGENT, SYSTEM}, "case_closed"),
        _t(
            "request_intervention",
            {AWAITING_MERCHANT, NEGOTIATING},
            ESCALATED,
            {CONSUMER, MERCHANT, AGENT, SYSTEM},
            "intervention_requested",
            needs_reason=True,
        ),
        _t(
            "dispute_return",
            {EXECUTING},
            ESCALATED,
            {MERCHANT, AGENT},
            "return_disputed",
            needs_reason=True,
        ),
        _t("start_review", {ESCALATED}, PLATFORM_REVIEW, {ARBITRATOR}, "review_started"),
        _t("rule", {PLATFORM_REVIEW}, RULED, {ARBITRATOR}, "ruling_recorded"),
        _t(
            "appeal",
            {RULED, EXECUTING, RESOLVED, CLOSED},
            PLATFORM_REVIEW,
            {CONSUMER, MERCHANT},
            "ruling_appealed",
            needs_reason=True,
        ),
        _t("reopen", {RESOLVED, CLOSED}, ACKNOWLEDGED, {CONSUMER, AGENT}, "case_reopened", needs_reason=True),
        _t(
            "withdraw",
            {SUBMITTED, ACKNOWLEDGED, AWAITING_MERCHANT, NEGOTIATING, ESCALATED},
            WITHDRAWN,
            {CONSUMER},
            "case_withdrawn",
        ),
        _t("reject", {SUBMITTED, ACKNOWLEDGED}, REJECTED, {AGENT}, "case_rejected", needs_reason=True),
        _t("merge", OPEN, MERGED, {AGENT, SYSTEM}, "case_merged"),
    ]
}


def allowed(name: str, status: str, party: str) -> bool:
    t = TRANSITIONS[name]
    return status in t.sources and party in t.parties


def moves_from(status: str, party: str) -> list[str]:
    """The transitions this party may try from this status (for buttons in the UI)."""
    return [t.name for t in TRANSITIONS.values() if status in t.sources and party in t.parties]


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {SUBMITTED}"]
    for t in TRANSITIONS.values():
        for source in sorted(t.sources):
            who = "/".join(sorted(t.parties))
            lines.append(f"    {source} --> {t.target}: {t.name} ({who})")
    for final in sorted(FINAL):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines)
