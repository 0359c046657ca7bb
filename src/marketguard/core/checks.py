"""System checks of the shipped data (run by `check`, `migrate` and the server at start)."""

from __future__ import annotations

from datetime import date

from django.core.checks import Info, register
from django.core.checks import Warning as CheckWarning
from django.utils import timezone

from marketguard.core.bizcalendar import published_years_cn


def missing_holiday_years(today: date) -> list[int]:
    """The years whose State Council holiday arrangement should be in data/holidays_cn.json by now
    and is not: this year, and from November (when the notice usually comes) the next one."""
    wanted = [today.year, today.year + 1] if today.month >= 11 else [today.year]
    published = published_years_cn()
    return [year for year in wanted if year not in published]


@register()
def holiday_data_check(app_configs=None, **kwargs):
    """A warning when this year's arrangement is missing (clocks run on it now); a note when only
    next year's is (its notice usually comes in November)."""
    today = timezone.localdate()  # the marketplace's day (Asia/Shanghai), not the server's zone
    issues = []
    for year in missing_holiday_years(today):
        level, code = (CheckWarning, "W001") if year == today.year else (Info, "I001")
        issues.append(
            level(
                f"No State Council holiday arrangement for {year} in core/data/holidays_cn.json: "
                "business clocks count only the statutory days off (no adjusted working days) then.",
                hint="Add the year from the notice (国务院办公厅关于部分节假日安排的通知) to the file "
                "and to the business calendar in the admin.",
                id=f"marketguard.{code}",
            )
        )
    return issues
