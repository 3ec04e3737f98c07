"""The histogram drawing: ten bins of ten percent, 100 in the last, a well-formed accessible SVG
with every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from coursesite.gradebook.histogram import PLOT_HEIGHT, bin_counts, histogram_svg

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    # The drawing is this module's own output, not untrusted input.
    return ET.fromstring(svg)  # noqa: S314


@pytest.mark.parametrize(
    ("percent", "bin_index"),
    [
        (Decimal(0), 0),
        (Decimal("9.99"), 0),
        (Decimal(10), 1),
        (Decimal("69.99"), 6),
        (69.99, 6),
        (70.0, 7),
        (Decimal("89.995"), 8),
        (Decimal(90), 9),
        (Decimal(100), 9),
        (100, 9),
        # Out of range (a maximum lowered after grading): kept in the end bins, not lost.
        (Decimal(-5), 0),
        (Decimal("112.5"), 9),
    ],
)
def test_it_puts_each_percent_in_its_bin_with_100_in_the_last(percent, bin_index):
    expected = [0] * 10
    expected[bin_index] = 1
    assert bin_counts([percent]) == expected


def test_it_counts_many_percents_per_bin():
    percents = [Decimal(p) for p in ("55", "58.5", "60", "100", "100", "0")]
    assert bin_counts(percents) == [1, 0, 0, 0, 0, 2, 1, 0, 0, 2]


def test_it_draws_a_well_formed_svg_with_a_title_and_a_description_of_every_bin():
    root = parsed(histogram_svg([Decimal(85), Decimal(60), Decimal(62)], title="A1", ident="h-a1"))
    assert root.tag == f"{SVG}svg"
    assert (root.get("role"), root.get("aria-labelledby"), root.get("aria-describedby")) == (
        "img",
        "h-a1-title",
        "h-a1-desc",
    )
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert (title.get("id"), title.text) == ("h-a1-title", "A1")
    assert desc.get("id") == "h-a1-desc"
    assert desc.text == (
        "Students counted: 3. 0\u201310%: 0; 10\u201320%: 0; 20\u201330%: 0; 30\u201340%: 0; "
        "40\u201350%: 0; 50\u201360%: 0; 60\u201370%: 2; 70\u201380%: 0; 80\u201390%: 1; "
        "90\u2013100%: 0."
    )


def test_it_draws_bars_in_proportion_to_their_counts_each_with_its_own_title():
    root = parsed(histogram_svg([60, 61, 85], title="A1", ident="h"))
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 10
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[6] == PLOT_HEIGHT and heights[8] == PLOT_HEIGHT / 2
    assert [h for i, h in enumerate(heights) if i not in (6, 8)] == [0.0] * 8
    assert bars[6].find(f"{SVG}title").text == "60\u201370%: 2"


def test_it_labels_both_axes():
    root = parsed(histogram_svg([10, 20, 20, 20], title="Quiz", ident="h"))
    labels = [text.text for text in root.findall(f"{SVG}text")]
    # The bars' counts, the count axis (0 and the highest count), the percent axis, its title.
    assert {"0", "3", "20", "40", "60", "80", "100"} <= set(labels)
    assert "percent (bar height: students)" in labels


def test_it_draws_an_empty_chart_that_says_so():
    root = parsed(histogram_svg([], title="A4", ident="h"))
    assert root.find(f"{SVG}desc").text == "Students counted: 0. no scores yet."
    assert "no scores yet" in [text.text for text in root.findall(f"{SVG}text")]
    assert {float(bar.get("height")) for bar in root.findall(f"{SVG}rect")} == {0.0}


def test_it_escapes_every_text_it_writes():
    hostile = '</title><script>alert("x")</script> & <b>'
    svg = histogram_svg([50], title=hostile, ident='x" onload="alert(1)', unit="<students>")
    root = parsed(svg)
    assert root.find(f"{SVG}title").text == hostile
    assert "<script>" not in svg and "<b>" not in svg and "<students>" not in svg
    assert root.get("onload") is None
    assert root.get("aria-labelledby") == 'x" onload="alert(1)-title'
