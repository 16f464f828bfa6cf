"""Albanian working-day arithmetic against hand-checked dates (working-days.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from dateutil.easter import EASTER_ORTHODOX, EASTER_WESTERN, easter

from bot.rti.services.workdays import (
    DEFAULT_CLOSED_DAYS_CSV,
    ESTIMATED_WORKING,
    EXTRA_CLOSURE_REASON,
    WorkCalendar,
    load_closed_days,
)

CAL = WorkCalendar(load_closed_days(DEFAULT_CLOSED_DAYS_CSV))

# (start, working days, expected end, days skipped after the start)
ADD_TABLE = [
    (date(2025, 10, 13), 5, date(2025, 10, 20), "Sat 18 + Sun 19 Oct"),
    (date(2025, 10, 11), 1, date(2025, 10, 13), "start on Sat; Sun 12 Oct"),
    (
        date(2026, 11, 20),
        10,
        date(2026, 12, 10),
        "weekends; Mon 23 Nov (Alphabet Day Sun 22 Nov, observed); Mon 30 Nov + Tue 1 Dec "
        "(28-29 Nov Sat-Sun, observed); Tue 8 Dec Youth Day",
    ),
    (date(2024, 11, 21), 1, date(2024, 11, 25), "Fri 22 Nov 2024 Alphabet Day; weekend"),
    (date(2025, 11, 21), 1, date(2025, 11, 25), "weekend (Alphabet Day Sat); Mon 24 Nov observed"),
    (
        date(2025, 11, 27),
        1,
        date(2025, 12, 2),
        "Fri 28 Nov Flag Day; weekend (Liberation Day Sat 29 Nov); Mon 1 Dec observed",
    ),
    (
        date(2025, 4, 17),
        2,
        date(2025, 4, 22),
        "weekend (both Easters Sun 20 Apr); Mon 21 Apr Catholic + Orthodox Easter Monday",
    ),
    (date(2026, 4, 3), 1, date(2026, 4, 7), "weekend; Mon 6 Apr Catholic Easter Monday"),
    (date(2026, 4, 10), 1, date(2026, 4, 14), "weekend; Mon 13 Apr Orthodox Easter Monday"),
    (
        date(2025, 3, 28),
        1,
        date(2025, 4, 1),
        "weekend (Bajrami i Madh Sun 30 Mar); Mon 31 Mar observed",
    ),
    (date(2025, 6, 5), 1, date(2025, 6, 9), "Fri 6 Jun Kurban Bajram; weekend"),
    (
        date(2026, 3, 19),
        2,
        date(2026, 3, 25),
        "Fri 20 Mar Bajrami i Madh; weekend (Nevruz Sun 22 Mar); Mon 23 Mar observed",
    ),
    (date(2026, 5, 26), 1, date(2026, 5, 28), "Wed 27 May Kurban Bajram"),
    (
        date(2024, 12, 31),
        1,
        date(2025, 1, 6),
        "Wed 1 + Thu 2 Jan New Year; Fri 3 Jan extra closure; weekend",
    ),
    (
        date(2025, 12, 24),
        1,
        date(2025, 12, 29),
        "Thu 25 Dec Christmas; Fri 26 Dec extra closure; weekend",
    ),
    (
        date(2026, 3, 12),
        2,
        date(2026, 3, 17),
        "weekend; Mon 16 Mar (Summer Day Sat 14 Mar, observed): the 2nd weekday is closed, "
        "so the deadline moves to the next working day",
    ),
    (
        date(2027, 12, 31),
        1,
        date(2028, 1, 5),
        "weekend (New Year 1-2 Jan 2028 Sat-Sun); Mon 3 + Tue 4 Jan observed",
    ),
    (
        date(2027, 4, 30),
        1,
        date(2027, 5, 5),
        "weekend (1 May Sat, Orthodox Easter Sun 2 May); Mon 3 + Tue 4 May observed",
    ),
]

# (start, working days, generous end, conservative end, days skipped after the start)
ESTIMATED_TABLE = [
    (
        date(2027, 3, 5),
        10,
        date(2027, 3, 24),
        date(2027, 3, 23),
        "weekends; Tue 9 Mar Bajrami i Madh (estimated); Mon 15 Mar (Summer Day Sun 14 Mar, "
        "observed); Mon 22 Mar Nevruz",
    ),
    (
        date(2027, 5, 14),
        1,
        date(2027, 5, 18),
        date(2027, 5, 17),
        "weekend (Kurban Bajram Sun 16 May, estimated); Mon 17 May observed (estimated)",
    ),
]


@pytest.mark.parametrize(("start", "days", "expected", "skipped"), ADD_TABLE)
def test_add(start: date, days: int, expected: date, skipped: str) -> None:
    assert CAL.add(start, days) == expected, skipped


@pytest.mark.parametrize(("start", "days", "expected", "skipped"), ADD_TABLE)
def test_subtract_undoes_add(start: date, days: int, expected: date, skipped: str) -> None:
    back = CAL.subtract(expected, days)
    assert back == start if CAL.is_working_day(start) else back < start, skipped
    assert CAL.count_between(start, expected) == days, skipped


@pytest.mark.parametrize(("start", "days", "generous", "conservative", "skipped"), ESTIMATED_TABLE)
def test_estimated_holidays(
    start: date, days: int, generous: date, conservative: date, skipped: str
) -> None:
    assert CAL.add(start, days) == generous, skipped
    assert CAL.add(start, days, estimated_closed=ESTIMATED_WORKING) == conservative, skipped


def test_only_unconfirmed_bajrams_are_estimated() -> None:
    for confirmed in (date(2026, 3, 20), date(2026, 5, 27)):
        assert not CAL.is_working_day(confirmed, estimated_closed=ESTIMATED_WORKING)
    assert not CAL.is_working_day(date(2027, 3, 9))
    assert CAL.is_working_day(date(2027, 3, 9), estimated_closed=ESTIMATED_WORKING)


@pytest.mark.parametrize("year", range(2024, 2029))
def test_easter_mondays_are_closed(year: int) -> None:
    for method in (EASTER_WESTERN, EASTER_ORTHODOX):
        monday = easter(year, method) + timedelta(days=1)
        assert not CAL.is_working_day(monday, estimated_closed=ESTIMATED_WORKING), monday


def test_alphabet_day_only_since_2024() -> None:
    assert CAL.is_working_day(date(2023, 11, 22))
    assert CAL.closed_reason(date(2024, 11, 22)) == "Dita e Alfabetit"


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2025, 10, 11), "e shtunë"),
        (date(2025, 10, 12), "e diel"),
        (date(2026, 11, 23), "Dita e Alfabetit (ditë pushimi e shtyrë)"),
        (date(2026, 11, 29), "Dita e Çlirimit"),
        (date(2026, 11, 30), "Dita Flamurit dhe e Pavarësisë (ditë pushimi e shtyrë)"),
        (date(2026, 12, 1), "Dita e Çlirimit (ditë pushimi e shtyrë)"),
        (date(2026, 12, 8), "Dita Kombëtare e Rinisë"),
        (date(2025, 6, 6), "Dita e Kurban Bajramit"),
        (date(2027, 3, 9), "Dita e Bajramit të Madh (e vlerësuar)"),
        (date(2025, 1, 3), EXTRA_CLOSURE_REASON),
        (date(2026, 12, 10), None),
    ],
)
def test_closed_reason_in_albanian(day: date, reason: str | None) -> None:
    assert CAL.closed_reason(day) == reason


def test_next_working_day_and_roll_forward() -> None:
    assert CAL.next_working_day(date(2025, 10, 13)) == date(2025, 10, 14)
    assert CAL.next_working_day(date(2026, 11, 27)) == date(2026, 12, 2)
    assert CAL.roll_forward(date(2026, 11, 28)) == date(2026, 12, 2)
    assert CAL.roll_forward(date(2026, 12, 10)) == date(2026, 12, 10)


def test_subtract_and_count_between() -> None:
    assert CAL.subtract(date(2026, 12, 10), 2) == date(2026, 12, 7)
    assert CAL.subtract(date(2025, 1, 6), 1) == date(2024, 12, 31)
    assert CAL.count_between(date(2026, 11, 27), date(2026, 12, 1)) == 0
    assert CAL.count_between(date(2026, 12, 10), date(2026, 12, 10)) == 0
    assert CAL.count_between(date(2026, 12, 10), date(2026, 11, 20)) == 0
    assert CAL.count_between(date(2027, 3, 5), date(2027, 3, 24)) == 10
    late = CAL.count_between(date(2027, 3, 5), date(2027, 3, 24), estimated_closed=False)
    assert late == 11


def test_extra_closures_come_only_from_the_list() -> None:
    assert WorkCalendar().is_working_day(date(2025, 1, 3))
    assert not CAL.is_working_day(date(2025, 1, 3))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CAL.add(date(2026, 1, 5), 0)
    with pytest.raises(ValueError, match="at least 1"):
        CAL.subtract(date(2026, 1, 5), -1)
    with pytest.raises(TypeError, match="datetime"):
        CAL.is_working_day(datetime(2026, 11, 23, 9))


def test_seeded_closed_days() -> None:
    assert load_closed_days(DEFAULT_CLOSED_DAYS_CSV) == [date(2025, 1, 3), date(2025, 12, 26)]


def test_load_closed_days_skips_blanks_and_rejects_bad_dates(tmp_path: Path) -> None:
    path = tmp_path / "closed.csv"
    path.write_text("date,note\n2026-12-24,test\n\n,empty\n2026-12-24,again\n", encoding="utf-8")
    assert load_closed_days(path) == [date(2026, 12, 24)]
    path.write_text("date,note\n2026-12-24,ok\n24.12.2026,bad\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r":3: not an ISO date"):
        load_closed_days(path)
    path.write_text("day,note\n2026-12-24,ok\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'date' column"):
        load_closed_days(path)
