"""The per-person ordering rule every sender follows (pipeline/person_order.py)."""

import pytest

from xsettle.pipeline.person_order import PersonOrder


def test_a_person_waits_only_to_change_path() -> None:
    order: PersonOrder[str] = PersonOrder()
    waited: list[list[str]] = []
    order.admit("P-1", False, waited.append).append("claim-1")
    order.admit("P-1", False, waited.append).append("claim-2")
    order.admit("P-2", True, waited.append).append("enrol-9")
    assert waited == []  # one path, or another person: nothing to wait for

    order.admit("P-1", True, waited.append).append("file-3")
    assert waited == [["claim-1", "claim-2"]]

    order.admit("P-1", False, waited.append).append("claim-4")
    assert waited[1:] == [["file-3"]]  # only what was sent since the last change


def test_a_failed_wait_keeps_the_earlier_events() -> None:
    order: PersonOrder[str] = PersonOrder()
    order.admit("P-1", False, lambda earlier: None).append("claim-1")

    def timed_out(earlier: list[str]) -> None:
        raise TimeoutError(earlier)

    for _ in range(2):  # tried again, it waits for the same events
        with pytest.raises(TimeoutError) as raised:
            order.admit("P-1", True, timed_out)
        assert raised.value.args == (["claim-1"],)


def test_what_the_next_event_would_wait_for_is_known_before_sending() -> None:
    order: PersonOrder[str] = PersonOrder()
    assert order.waiting_for("P-1", True) == []  # nothing sent yet
    order.admit("P-1", False, lambda earlier: None).append("claim-1")
    assert order.waiting_for("P-1", False) == []  # the same path never waits
    assert order.waiting_for("P-1", True) == ["claim-1"]
    assert order.waiting_for("P-2", True) == []  # other persons never wait


def test_a_person_would_wait_only_for_answers_not_seen() -> None:
    order: PersonOrder[str] = PersonOrder()
    order.admit("P-1", False, lambda earlier: None).append("claim-1")
    order.admit("P-1", False, lambda earlier: None).append("claim-2")
    assert order.would_wait("P-1", True, {"claim-1"})  # claim-2 not answered yet
    assert not order.would_wait("P-1", True, {"claim-1", "claim-2"})
    assert not order.would_wait("P-1", False, set())  # the same path never waits
    assert not order.would_wait(None, True, set())  # no person, no order
    assert order.unanswered("P-1", True, {"claim-1"}) == ["claim-2"]
