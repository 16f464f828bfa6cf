"""Right-to-information deadlines of Law 119/2014 (rti.md) in Albanian working days.

Dates an AUTHORITY must meet are counted generously (an estimated holiday is a day off, so the
date is never too early to call the office late); dates the CITIZEN must meet are the earliest
they could be, so following the bot never makes a complaint late. See `bot.rti.services.workdays`.
"""

from __future__ import annotations

from datetime import date

from bot.rti.services.workdays import ESTIMATED_CLOSED, ESTIMATED_WORKING, WorkCalendar

ANSWER_DAYS = 10
"""Art. 15(1): answer as soon as possible, at most 10 working days after submission."""

TRANSFER_DAYS = 15
"""Art. 15(2): forwarded requests: 15 working days from the day it reached the first authority."""

EXTENSION_DAYS = 5
"""Art. 15(3): either deadline may be extended once by at most 5 working days."""

REGISTERED_ANSWER_DAYS = 3
"""Art. 15: information already given and kept in the register (art. 8): 3 working days."""

COMPLAINT_DAYS = 30
"""Art. 24: complain to the Commissioner within 30 working days of the refusal or the silence."""

REMINDER_BEFORE_DAYS = 2
"""Bot policy: remind the requester this many working days before the authority's deadline."""

COMPLAINT_REMINDER_BEFORE_DAYS = 5
"""Bot policy: remind the requester this many working days before their complaint deadline."""


def answer_due(
    cal: WorkCalendar, sent_on: date, *, estimated_closed: bool = ESTIMATED_CLOSED
) -> date:
    """Last day for the authority's answer (art. 15(1)); generous unless told otherwise."""
    return cal.add(sent_on, ANSWER_DAYS, estimated_closed=estimated_closed)


def transferred_due(
    cal: WorkCalendar, sent_on: date, *, estimated_closed: bool = ESTIMATED_CLOSED
) -> date:
    """Last day for a forwarded request (art. 15(2)), counted from the original `sent_on`."""
    return cal.add(sent_on, TRANSFER_DAYS, estimated_closed=estimated_closed)


def registered_answer_due(
    cal: WorkCalendar, sent_on: date, *, estimated_closed: bool = ESTIMATED_CLOSED
) -> date:
    """Last day to answer with information already in the register (art. 15); generous."""
    return cal.add(sent_on, REGISTERED_ANSWER_DAYS, estimated_closed=estimated_closed)


def extended_due(
    cal: WorkCalendar, current_due: date, *, estimated_closed: bool = ESTIMATED_CLOSED
) -> date:
    """Last day after an extension (art. 15(3)): 5 working days after the current due date."""
    return cal.add(current_due, EXTENSION_DAYS, estimated_closed=estimated_closed)


def complaint_due(cal: WorkCalendar, start: date) -> date:
    """Citizen's last day to complain (art. 24): 30 working days after `start`, earliest reading."""
    return cal.add(start, COMPLAINT_DAYS, estimated_closed=ESTIMATED_WORKING)


def complaint_start_after_silence(cal: WorkCalendar, due_on: date) -> date:
    """The day the 30 days count from after silence: `due_on` itself, the earliest reading.

    Silence is a refusal (art. 15(4)) from the day after `due_on`, and art. 24 counts from "the
    day the answer deadline passed". Taking that day as `due_on` (the deadline runs out at its
    end) and not counting it, day 1 is the first working day after `due_on`, i.e. the first day of
    the refusal. Reading it as the day after `due_on` would give a deadline one working day later,
    so this is the reading that can never make the citizen late. For the same reason pass the due
    date counted with `ESTIMATED_WORKING` (e.g. `answer_due(cal, sent_on, estimated_closed=False)`):
    it differs from the generous one only when an estimated Bajram falls inside the answer period.
    `cal` is unused and kept so every function here has the same shape.
    """
    return due_on


def answer_reminders(cal: WorkCalendar, due_on: date) -> tuple[date, date]:
    """(2 working days before the authority's due date, first working day after it); generous."""
    before = cal.subtract(due_on, REMINDER_BEFORE_DAYS, estimated_closed=ESTIMATED_CLOSED)
    after = cal.next_working_day(due_on, estimated_closed=ESTIMATED_CLOSED)
    return before, after


def complaint_reminder(cal: WorkCalendar, complaint_due_on: date) -> date:
    """5 working days before the complaint deadline, counting estimated holidays as closed.

    Counting backwards, closed days make the date earlier, so this is the conservative choice:
    at least 5 real working days remain whichever way an estimated holiday turns out.
    """
    return cal.subtract(
        complaint_due_on, COMPLAINT_REMINDER_BEFORE_DAYS, estimated_closed=ESTIMATED_CLOSED
    )
