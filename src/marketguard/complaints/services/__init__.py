"""Complaint and after-sales use cases. Every state change of a case happens here.

Each function: keyword-only arguments, `actor` (None = the system: sweeps, mail intake), one
transaction, the case row locked (`select_for_update`) before a move, an optimistic `version`
check when the caller sends one (409 if someone else acted first), a timeline event, an audit
record, and side effects (webhooks) queued on commit.
"""

from marketguard.complaints.evidence_store import check as check_evidence_file  # noqa: F401
from marketguard.complaints.evidence_store import refuse_oversized  # noqa: F401
from marketguard.complaints.services.arbitration import (  # noqa: F401
    appeal_ruling,
    intervention_offer,
    intervention_refusal,
    record_ruling,
    request_intervention,
    start_review,
)
from marketguard.complaints.services.assistant import (  # noqa: F401
    Reply,
    ask_assistant,
    conversation,
    hand_off_to_agent,
    rate_assistant_answer,
)
from marketguard.complaints.services.closing import (  # noqa: F401
    merge_cases,
    rate_case,
    reject_case,
    reopen_case,
    withdraw_case,
)
from marketguard.complaints.services.common import (  # noqa: F401
    AFTER_SALES_KINDS,
    PREFIX,
    agents_by_load,
    case_payload,
    clear_cache,
    consumer_language,
    get_case,
    mark_alerts_read,
    merchant_acted_since_escalation,
    my_alerts,
    party_of,
    policies,
    policy_for,
    rules,
    ruling_too_early,
    settling,
    timeouts,
    visible_cases,
)
from marketguard.complaints.services.export import export_case  # noqa: F401
from marketguard.complaints.services.intake import (  # noqa: F401
    NO_REASON_TEXT,
    Intake,
    acknowledgement_text,
    check_no_reason_return,
    link_order,
    next_steps,
    refuse_staff_fields,
    submit_case,
    typed_external_id,
)
from marketguard.complaints.services.mail import (  # noqa: F401
    MailResult,
    deliver_mail,
    ingest_email,
    ingest_maildir,
    mail_refusal_text,
    retry_mail,
)
from marketguard.complaints.services.sweep import SweepReport, sweep  # noqa: F401
from marketguard.complaints.services.work import (  # noqa: F401
    ADDABLE_MAIL,
    acknowledge_case,
    add_evidence,
    add_refused_mail,
    answerable_materials,
    ask_merchant,
    compensation_room,
    decide_proposal,
    execute_remedy,
    forward_to_merchant,
    hand_over_case,
    make_proposal,
    post_message,
    record_return_received,
    record_return_shipped,
    refundable_left,
    request_materials,
    resolve_case,
    set_return_address,
    take_case,
)
