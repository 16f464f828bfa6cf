"""Law 119/2014 deadlines against hand-checked dates (rti.md, working-days.md)."""

from __future__ import annotations

from datetime import date

from bot.rti.services import deadlines as rti
from bot.rti.services.workdays import (
    DEFAULT_CLOSED_DAYS_CSV,
    ESTIMATED_WORKING,
    WorkCalendar,
    load_closed_days,
)

CAL = WorkCalendar(load_closed_days(DEFAULT_CLOSED_DAYS_CSV))


def test_legal_numbers() -> None:
    assert (rti.ANSWER_DAYS, rti.TRANSFER_DAYS, rti.EXTENSION_DAYS) == (10, 15, 5)
    assert (rti.REGISTERED_ANSWER_DAYS, rti.COMPLAINT_DAYS) == (3, 30)
    assert (rti.REMINDER_BEFORE_DAYS, rti.COMPLAINT_REMINDER_BEFORE_DAYS) == (2, 5)


def test_answer_due() -> None:
    # Skips Mon 23 Nov, Mon 30 Nov, Tue 1 Dec, Tue 8 Dec 2026 and the weekends.
    assert rti.answer_due(CAL, date(2026, 11, 20)) == date(2026, 12, 10)
    # Weekend, Mon 1 Dec 2025 (Liberation Day observed), Mon 8 Dec (Youth Day): Tue 16 is day 10.
    assert rti.answer_due(CAL, date(2025, 11, 28)) == date(2025, 12, 16)


def test_answer_due_is_generous_over_an_estimated_bajram() -> None:
    # Mar 2027: Tue 9 (Bajram, estimated) and Mon 15 (Summer Day observed) are skipped.
    sent = date(2027, 2, 26)
    assert rti.answer_due(CAL, sent) == date(2027, 3, 16)
    assert rti.answer_due(CAL, sent, estimated_closed=ESTIMATED_WORKING) == date(2027, 3, 12)


def test_transferred_due_counts_from_the_original_submission() -> None:
    # Days 11-15 after Thu 10 Dec 2026 are Fri 11, Mon 14 ... Thu 17 Dec.
    assert rti.transferred_due(CAL, date(2026, 11, 20)) == date(2026, 12, 17)


def test_registered_answer_due() -> None:
    # Thu 31 Dec (1); Fri 1 Jan, weekend (2 Jan Sat), Mon 4 Jan observed; Tue 5 (2), Wed 6 (3).
    assert rti.registered_answer_due(CAL, date(2026, 12, 30)) == date(2027, 1, 6)


def test_extended_due() -> None:
    # Wed 23 (1), Thu 24 (2), Fri 25 Christmas, weekend, Mon 28 (3), Tue 29 (4), Wed 30 (5).
    assert rti.extended_due(CAL, date(2026, 12, 22)) == date(2026, 12, 30)


def test_complaint_due() -> None:
    # Dec 2026 - Jan 2027: skips Fri 25 Dec, Fri 1 Jan and Mon 4 Jan (2 Jan Sat observed).
    assert rti.complaint_due(CAL, date(2026, 12, 10)) == date(2027, 1, 26)


def test_complaint_due_is_conservative_over_an_estimated_bajram() -> None:
    # Tue 9 Mar 2027 (estimated) counts as day 7; Mon 15, Mon 22, Mon 29 Mar are closed.
    start = date(2027, 2, 26)
    assert rti.complaint_due(CAL, start) == date(2027, 4, 14)
    assert CAL.add(start, rti.COMPLAINT_DAYS) == date(2027, 4, 15)


def test_complaint_after_silence_counts_from_the_due_date() -> None:
    due = rti.answer_due(CAL, date(2026, 11, 20))
    start = rti.complaint_start_after_silence(CAL, due)
    assert start == due == date(2026, 12, 10)
    first_day_of_refusal = rti.answer_reminders(CAL, due)[1]
    assert CAL.add(start, 1) == first_day_of_refusal == date(2026, 12, 11)
    assert rti.complaint_due(CAL, start) == date(2027, 1, 26)


def test_complaint_after_silence_from_the_earliest_due_date() -> None:
    sent = date(2027, 2, 26)
    earliest = rti.answer_due(CAL, sent, estimated_closed=ESTIMATED_WORKING)
    generous = rti.answer_due(CAL, sent)
    from_earliest = rti.complaint_due(CAL, rti.complaint_start_after_silence(CAL, earliest))
    from_generous = rti.complaint_due(CAL, rti.complaint_start_after_silence(CAL, generous))
    assert (from_earliest, from_generous) == (date(2027, 4, 28), date(2027, 4, 29))


def test_answer_reminders() -> None:
    # Before: Wed 9 (1), Tue 8 Dec closed, Mon 7 (2). After: Fri 11 Dec.
    assert rti.answer_reminders(CAL, date(2026, 12, 10)) == (date(2026, 12, 7), date(2026, 12, 11))
    # Before: Thu 26 (1), Wed 25 (2). After: weekend, Mon 30 Nov and Tue 1 Dec closed.
    assert rti.answer_reminders(CAL, date(2026, 11, 27)) == (date(2026, 11, 25), date(2026, 12, 2))


def test_complaint_reminder() -> None:
    # Mon 25 (1), Fri 22 (2), Thu 21 (3), Wed 20 (4), Tue 19 Jan 2027 (5).
    assert rti.complaint_reminder(CAL, date(2027, 1, 26)) == date(2027, 1, 19)
    # Tue 5 Jan (1); Mon 4 Jan, Fri 1 Jan closed; Thu 31 (2), Wed 30 (3), Tue 29 (4), Mon 28 (5).
    assert rti.complaint_reminder(CAL, date(2027, 1, 6)) == date(2026, 12, 28)


def test_complaint_reminder_leaves_five_real_days_around_an_estimated_bajram() -> None:
    # Thu 11 (1), Wed 10 (2), Tue 9 Mar 2027 (estimated) skipped, Mon 8 (3), Fri 5 (4), Thu 4 (5).
    assert rti.complaint_reminder(CAL, date(2027, 3, 12)) == date(2027, 3, 4)
    later = CAL.subtract(date(2027, 3, 12), 5, estimated_closed=ESTIMATED_WORKING)
    assert later == date(2027, 3, 5)
