"""The training curve drawn as SVG: read from the autograders' outputs, well-formed, escaped."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest

from submissions.plots import (
    Curve,
    Series,
    curve_of,
    curve_svg,
    curve_title,
    nice_ticks,
    training_curves,
)

SVG = "{http://www.w3.org/2000/svg}"
A1_OUTPUT = (
    "MLP([64, 64, 10], activation='relu', seed=0) trained by train(epochs=5, ...).\n"
    "Loss per epoch (as your train() reported it): 2.301 0.612 0.331 0.201 0.150\n"
    "Mean cross-entropy of the trained network on the training set: 0.1402 (at most 0.25 needed)."
)


def drawn(curve: Curve, title: str = "Training loss per epoch") -> ET.Element:
    return parsed(curve_svg(curve, title=title, ident="c1"))


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314  (markup this site wrote)


def lines(svg: ET.Element, kind: str) -> list[ET.Element]:
    return [e for e in svg.iter(f"{SVG}polyline") if e.get("class") == kind]


def test_it_reads_a1s_loss_curve_from_a_tests_output():
    curve = curve_of(A1_OUTPUT)
    assert curve is not None and curve.accuracy is None
    assert curve.loss == Series((1, 2, 3, 4, 5), (2.301, 0.612, 0.331, 0.201, 0.150))


def test_it_stops_at_the_first_word_and_steps_by_the_epochs_reported():
    curve = curve_of("training loss every 3 epochs (9 epochs): 1.5 1.2 0.9 ... (9 epochs)")
    assert curve is not None and curve.loss == Series((1, 4, 7), (1.5, 1.2, 0.9))


def test_it_reads_accuracy_beside_the_loss():
    curve = curve_of("Loss per epoch: 1.0 0.5\nAccuracy per epoch: 0.6 0.9")
    assert curve is not None and curve.accuracy == Series((1, 2), (0.6, 0.9))
    svg = drawn(curve)
    assert len(lines(svg, "loss")) == len(lines(svg, "accuracy")) == 1
    assert "Accuracy" in [text.text for text in svg.iter(f"{SVG}text")]


def test_it_draws_a_curve_two_tests_report_once_naming_both():
    curves = training_curves([("training_loss", A1_OUTPUT), ("heldout", A1_OUTPUT), ("relu", "ok")])
    assert [curve.tests for curve in curves] == [("training_loss", "heldout")]
    assert curve_title(curves[0]).endswith("as reported in training_loss, heldout")


def test_it_finds_no_curve_in_an_output_without_one():
    assert (
        training_curves([("relu", "ReLU agrees with PyTorch."), ("x", "Loss per epoch: ...")]) == []
    )


def test_it_draws_well_formed_svg_with_axes_ticks_a_title_and_a_description():
    svg = drawn(curve_of(A1_OUTPUT))  # type: ignore[arg-type]
    assert svg.get("role") == "img" and svg.get("aria-label") == "Training loss per epoch"
    assert svg.find(f"{SVG}title").text == "Training loss per epoch"  # type: ignore[union-attr]
    description = svg.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert description == (
        "Loss went from 2.301 at epoch 1 to 0.15 at epoch 5; lowest 0.15 at epoch 5."
    )
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert {"Epoch", "Loss", "1", "5", "0", "2.5"} <= set(texts)
    (line,) = lines(svg, "loss")
    assert len(line.get("points", "").split()) == 5


def test_it_escapes_every_text_it_writes():
    title = 'Loss <script>alert("x")</script> & co'
    markup = curve_svg(curve_of(A1_OUTPUT), title=title, ident='c"1')  # type: ignore[arg-type]
    assert "<script>" not in markup
    svg = parsed(markup)
    assert svg.find(f"{SVG}title").text == title  # type: ignore[union-attr]
    assert svg.get("aria-labelledby") == 'c"1-title c"1-desc'


def test_it_draws_one_point_as_a_marker_without_a_line():
    svg = drawn(Curve(loss=Series((1,), (0.7,)), accuracy=None))
    assert lines(svg, "loss") == []
    assert len(list(svg.iter(f"{SVG}circle"))) == 1


def test_it_leaves_a_gap_at_values_that_are_not_finite_and_says_so():
    curve = curve_of("Loss per epoch: 1.0 0.8 nan 0.5 0.4 inf ?")
    assert curve is not None and curve.loss is not None
    assert curve.loss.values == (1.0, 0.8, None, 0.5, 0.4, None, None)
    svg = drawn(curve)
    assert len(lines(svg, "loss")) == 2
    assert "3 values not a finite number" in svg.find(f"{SVG}desc").text  # type: ignore[operator,union-attr]


def test_it_draws_a_curve_with_no_finite_value_without_failing():
    svg = drawn(Curve(loss=Series((1, 2), (None, None)), accuracy=None))
    assert lines(svg, "loss") == []
    assert svg.find(f"{SVG}desc").text == "Loss: no finite values."  # type: ignore[union-attr]


def test_it_draws_an_empty_curve_as_bare_axes():
    svg = drawn(Curve(loss=None, accuracy=None))
    assert list(svg.iter(f"{SVG}polyline")) == []
    assert "Epoch" in [text.text for text in svg.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0.05, 2.301, [0, 0.5, 1, 1.5, 2, 2.5]), (3, 3, [1, 2, 3, 4, 5]), (0.9, 0.97, None)],
)
def test_it_puts_ticks_at_round_values_around_the_data(low, high, expected):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    if expected is not None:
        assert ticks == expected
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    step = steps.pop()
    assert round(step / 10 ** math.floor(math.log10(step)), 6) in (1, 2, 5)
