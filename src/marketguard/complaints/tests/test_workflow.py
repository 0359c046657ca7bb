"""The transition table: every allowed move works for its parties, every other is refused, and
the published diagram is the table's."""

from pathlib import Path

import pytest

from marketguard.complaints import workflow

DOC = Path(__file__).resolve().parents[4] / "docs" / "workflows" / "complaints.md"


def test_every_state_is_reachable_and_final_states_have_no_way_out_except_reopen_and_appeal():
    reachable = {workflow.SUBMITTED}
    changed = True
    while changed:
        changed = False
        for t in workflow.TRANSITIONS.values():
            if t.sources & reachable and t.target not in reachable:
                reachable.add(t.target)
                changed = True
    assert reachable == set(workflow.STATES)
    for t in workflow.TRANSITIONS.values():
        if t.sources & workflow.FINAL:
            assert t.name in ("reopen", "appeal"), t.name  # appeal: within 7 days of a ruling


@pytest.mark.parametrize("name", sorted(workflow.TRANSITIONS))
def test_allowed_only_from_its_sources_and_for_its_parties(name):
    t = workflow.TRANSITIONS[name]
    parties = {"consumer", "merchant", "agent", "arbitrator", "system"}
    for state in workflow.STATES:
        for party in parties:
            assert workflow.allowed(name, state, party) == (state in t.sources and party in t.parties)


def test_the_published_diagram_is_generated_from_the_table():
    assert workflow.mermaid() in DOC.read_text(encoding="utf-8"), (
        "run: python -m marketguard.complaints.workflow > docs"
    )


def test_every_move_has_words_for_people():
    from marketguard.complaints.services.common import MOVE_TEXT

    assert set(MOVE_TEXT) == set(workflow.TRANSITIONS)
