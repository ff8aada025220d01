"""The admin page's chart (bot/insights/plots.py): valid SVG, the same bytes for the same days, and
an alt text that says what it shows."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from bot.insights.plots import daily_svg, describe, rates
from bot.types import Day

SVG = "{http://www.w3.org/2000/svg}"


def month() -> list[Day]:
    return [Day(f"2026-04-{d:02d}", 10 + d % 7, d % 4, d % 3, d % 2) for d in range(1, 31)]


def test_the_chart_is_valid_svg_with_both_panels() -> None:
    svg = daily_svg(month())
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f".//{SVG}g[@id='axes_1']")) == 1
    assert len(root.findall(f".//{SVG}g[@id='axes_2']")) == 1
    assert len(root.findall(f".//{SVG}g[@id='patch_3']")) == 1  # the first day's bar
    assert b"<script" not in svg and b'href="http' not in svg


def test_the_same_days_give_the_same_bytes_and_no_date() -> None:
    first, second = daily_svg(month()), daily_svg(month())
    assert first == second
    assert b"<dc:date>" not in first
    assert daily_svg(month()[:7]) != first


def test_a_window_without_questions_still_draws() -> None:
    empty = [Day(f"2026-04-{d:02d}", 0, 0, 0, 0) for d in range(1, 8)]
    for days in (empty, []):
        root = ET.fromstring(daily_svg(days))
        assert root.tag == f"{SVG}svg"
    assert describe(empty) == "Chart of questions per day: no questions in this window."


def test_ninety_days_draw() -> None:
    days = [Day(f"d{n}", n % 9, n % 2, 0, n % 3 // 2) for n in range(90)]
    assert ET.fromstring(daily_svg(days)).tag == f"{SVG}svg"


def test_rates_are_shares_of_the_days_questions() -> None:
    assert rates(Day("2026-04-01", 20, 5, 3, 2)) == (25.0, 10.0)
    assert all(math.isnan(r) for r in rates(Day("2026-04-02", 0, 0, 0, 0)))


def test_the_alt_text_names_the_window_the_peak_and_the_rates() -> None:
    days = [Day("2026-04-01", 10, 1, 0, 0), Day("2026-04-02", 30, 3, 1, 4)]
    text = describe(days)
    assert "from 2026-04-01 to 2026-04-02: 40 in all" in text
    assert "the most on 2026-04-02 (30)" in text
    assert "abstained on 10%" in text and "10% were voted down" in text
