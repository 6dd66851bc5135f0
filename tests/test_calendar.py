from datetime import date
from decimal import Decimal

import pytest

from hrcore.calendar import holiday_dates, is_working_day, working_days
from hrcore.errors import Invalid


def test_a_plain_week_is_five_days_and_weekends_do_not_count() -> None:
    assert working_days(date(2026, 11, 2), date(2026, 11, 6), country="KE") == 5
    # Thursday to Tuesday: the weekend in between is skipped.
    assert working_days(date(2026, 11, 5), date(2026, 11, 10), country="KE") == 4
    assert working_days(date(2026, 11, 7), date(2026, 11, 8), country="KE") == 0
    assert working_days(date(2026, 11, 4), date(2026, 11, 4), country="TZ") == 1


def test_jamhuri_day_on_a_saturday_has_no_weekday_substitute_in_2026() -> None:
    # The holidays package observes Kenyan holidays falling on a Sunday on the Monday,
    # but not those falling on a Saturday: Monday 14 Dec 2026 is an ordinary day.
    assert date(2026, 12, 12) in holiday_dates("KE", 2026)
    assert date(2026, 12, 14) not in holiday_dates("KE", 2026)
    assert working_days(date(2026, 12, 7), date(2026, 12, 14), country="KE") == 6


def test_jamhuri_day_on_a_sunday_is_observed_on_monday_in_2027() -> None:
    assert not is_working_day(date(2027, 12, 13), country="KE")
    assert working_days(date(2027, 12, 13), date(2027, 12, 17), country="KE") == 4
    # Tanzania has no such holiday: the same week is five days there.
    assert working_days(date(2027, 12, 13), date(2027, 12, 17), country="TZ") == 5


def test_christmas_week_in_kenya_and_tanzania() -> None:
    # 21–31 Dec 2026: nine weekdays, Christmas on the Friday; Boxing Day is a Saturday.
    assert working_days(date(2026, 12, 21), date(2026, 12, 31), country="KE") == 8
    assert working_days(date(2026, 12, 21), date(2026, 12, 31), country="TZ") == 8
    assert working_days(date(2026, 12, 25), date(2026, 12, 27), country="KE") == 0


@pytest.mark.parametrize(
    ("day", "ke", "tz"),
    [
        (date(2026, 12, 9), 1, 0),  # Tanzania's Independence and Republic Day
        (date(2026, 7, 7), 1, 0),  # Saba Saba, a Tanzanian holiday only
        (date(2026, 10, 20), 0, 1),  # Mashujaa Day, a Kenyan holiday only
        (date(2026, 4, 3), 0, 0),  # Good Friday in both
        (date(2026, 4, 6), 0, 0),  # Easter Monday in both
    ],
)
def test_holidays_are_per_country(day: date, ke: int, tz: int) -> None:
    assert working_days(day, day, country="KE") == ke
    assert working_days(day, day, country="TZ") == tz


def test_half_day_counts_half_and_only_on_a_working_day() -> None:
    assert working_days(date(2026, 11, 2), date(2026, 11, 2), country="KE", half_day=True) == (
        Decimal("0.5")
    )
    assert working_days(date(2026, 11, 7), date(2026, 11, 7), country="KE", half_day=True) == 0
    assert working_days(date(2026, 12, 25), date(2026, 12, 25), country="TZ", half_day=True) == 0


def test_half_day_over_several_days_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        working_days(date(2026, 11, 2), date(2026, 11, 3), country="KE", half_day=True)
    assert err.value.code == "invalid_half_day"


def test_end_before_start_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        working_days(date(2026, 11, 6), date(2026, 11, 2), country="KE")
    assert err.value.code == "invalid_dates"


def test_unknown_country_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        working_days(date(2026, 11, 2), date(2026, 11, 6), country="XX")
    assert err.value.code == "invalid_country"


def test_holiday_sets_are_cached_per_country_and_year() -> None:
    first = holiday_dates("TZ", 2030)
    hits = holiday_dates.cache_info().hits
    assert holiday_dates("TZ", 2030) is first
    assert holiday_dates.cache_info().hits == hits + 1
    assert holiday_dates("KE", 2030) is not first
    assert all(day.year == 2030 for day in first)
