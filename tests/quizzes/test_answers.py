"""``quizzes.answers``: every kind of question, the safe parser, variants and specs.

Expected verdicts are written out by hand from the rules in the module's doc. No database: the
module is pure Python and SymPy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from quizzes import answers
from quizzes.answers import AnswerError, Checked, check, expected_text, spec_check
from quizzes.models import QuestionKind

REPO = Path(__file__).resolve().parents[2]
# The budget promised for refusing a hostile answer: nothing may be computed before refusing.
REFUSAL_SECONDS = 0.5


def verdict(kind: str, spec: dict[str, Any], text: str, **values: float) -> Checked:
    assert spec_check(kind, spec) == [], "the case's spec must itself be sound"
    return check(kind, spec, values, text)


def test_it_knows_the_kinds_of_the_question_model():
    assert set(answers.KINDS) == set(QuestionKind.values)
    assert {kind for kind in answers.KINDS if answers.auto_checked(kind)} == {
        "choice",
        "number",
        "matrix",
        "expression",
    }


# --- choice -----------------------------------------------------------------------------------

ONE = {"options": ["2", "3", "4"], "correct": [1]}
SEVERAL = {"options": ["relu", "sigmoid", "tanh", "identity"], "correct": [1, 2], "multiple": True}
PER_OPTION = {**SEVERAL, "scoring": "per_option"}


@pytest.mark.parametrize(
    ("spec", "text", "fraction"),
    [
        pytest.param(ONE, "1", 1.0, id="one-right"),
        pytest.param(ONE, " 1 ", 1.0, id="one-right-with-spaces"),
        pytest.param(ONE, "2", 0.0, id="one-wrong"),
        pytest.param(SEVERAL, "1,2", 1.0, id="several-right"),
        pytest.param(SEVERAL, "2, 1", 1.0, id="several-right-in-any-order"),
        pytest.param(SEVERAL, "1", 0.0, id="several-all-or-nothing-misses-one"),
        pytest.param(SEVERAL, "0,1,2", 0.0, id="several-all-or-nothing-one-too-many"),
        pytest.param(PER_OPTION, "1,2", 1.0, id="per-option-right"),
        # 3 of 4 options marked right, 1 wrong: (3 - 1) / 4.
        pytest.param(PER_OPTION, "1", 0.5, id="per-option-misses-one"),
        pytest.param(PER_OPTION, "0,1,2", 0.5, id="per-option-one-too-many"),
        # 2 right, 2 wrong: 0.
        pytest.param(PER_OPTION, "0,1", 0.0, id="per-option-half"),
        # 0 right, 4 wrong: -1, kept at 0.
        pytest.param(PER_OPTION, "0,3", 0.0, id="per-option-never-below-zero"),
        pytest.param(PER_OPTION, "3", 0.0, id="per-option-one-wrong-one-right-missing"),
    ],
)
def test_it_scores_choices(spec, text, fraction):
    checked = verdict("choice", spec, text)
    assert (checked.fraction, checked.correct, checked.problem) == (fraction, fraction == 1.0, "")


def test_it_never_scores_per_option_below_zero_whatever_is_chosen():
    options = range(len(PER_OPTION["options"]))
    for mask in range(1, 2 ** len(options)):
        text = ",".join(str(i) for i in options if mask >> i & 1)
        assert 0.0 <= verdict("choice", PER_OPTION, text).fraction <= 1.0


@pytest.mark.parametrize(
    ("spec", "text", "problem"),
    [
        pytest.param(ONE, "", "no answer was given", id="empty"),
        pytest.param(PER_OPTION, "  ", "no answer was given", id="blank-earns-nothing-per-option"),
        pytest.param(ONE, "3", "there is no option 3", id="out-of-range"),
        pytest.param(ONE, "0,1", "choose one option", id="several-for-one"),
        pytest.param(ONE, "b", "'b' is not an option", id="letter"),
        pytest.param(SEVERAL, "1,,2", "'' is not an option", id="empty-piece"),
        pytest.param(ONE, "-1", "'-1' is not an option", id="negative"),
    ],
)
def test_it_says_why_a_choice_cannot_be_read(spec, text, problem):
    checked = verdict("choice", spec, text)
    assert (checked.fraction, checked.correct, checked.problem) == (0.0, False, problem)


def test_it_shows_the_correct_options_with_the_variant_substituted():
    spec = {"options": ["{a} layers", "{b} layers", "none"], "correct": [1, 0], "multiple": True}
    assert expected_text("choice", spec, {"a": 2, "b": 3}) == "2 layers; 3 layers"


# --- number -----------------------------------------------------------------------------------

ABSOLUTE = {"answer": 0.3, "tolerance": 0.1}
RELATIVE = {"answer": 200, "relative_tolerance": 0.01}


@pytest.mark.parametrize(
    ("spec", "text", "right"),
    [
        pytest.param(ABSOLUTE, "0.3", True, id="absolute-exact"),
        # 0.4 - 0.3 is 0.10000000000000003 in floating point: decimals are compared exactly.
        pytest.param(ABSOLUTE, "0.4", True, id="absolute-at-upper-bound"),
        pytest.param(ABSOLUTE, "0.2", True, id="absolute-at-lower-bound"),
        pytest.param(ABSOLUTE, "0.4000001", False, id="absolute-just-above"),
        pytest.param(ABSOLUTE, "0.1999999", False, id="absolute-just-below"),
        pytest.param(ABSOLUTE, "1/3", True, id="absolute-fraction"),
        pytest.param(RELATIVE, "202", True, id="relative-at-upper-bound"),
        pytest.param(RELATIVE, "198", True, id="relative-at-lower-bound"),
        pytest.param(RELATIVE, "202.0000001", False, id="relative-just-above"),
        pytest.param(RELATIVE, "1.98e2", True, id="relative-exponent"),
        pytest.param({"answer": -0.002}, "-2e-3", True, id="no-tolerance-exponent"),
        pytest.param({"answer": -0.002}, "-0.0020001", False, id="no-tolerance-off"),
        pytest.param({"answer": "1/3"}, "1/3", True, id="fraction-exactly"),
        pytest.param({"answer": "1/3"}, "0.3333333333", False, id="fraction-rounded-no-tolerance"),
        pytest.param({"answer": 1.41421356, "tolerance": 1e-8}, "sqrt(2)", True, id="sqrt"),
        pytest.param({"answer": "sqrt(2)", "tolerance": 1e-3}, "1.414", True, id="irrational"),
        pytest.param(
            {"answer": "sqrt(2)", "tolerance": 1e-4}, "1.4141", False, id="irrational-off"
        ),
        pytest.param({"answer": "pi/2", "tolerance": 1e-12}, "asin(1)", True, id="functions"),
    ],
)
def test_it_checks_numbers_up_to_the_tolerance(spec, text, right):
    checked = verdict("number", spec, text)
    assert (checked.correct, checked.fraction, checked.problem) == (right, float(right), "")


def test_it_computes_the_expected_number_from_the_variant():
    spec = {
        "parameters": {"a": {"from": 3, "to": 9}, "b": {"choices": [4, 12]}},
        "answer": "sqrt(a**2 + b**2)",
        "tolerance": 0.01,
    }
    assert check("number", spec, {"a": 3, "b": 4}, "5.01").correct
    assert not check("number", spec, {"a": 3, "b": 4}, "5.02").correct
    assert check("number", spec, {"a": 5, "b": 12}, "13").correct
    assert expected_text("number", spec, {"a": 3, "b": 4}) == "5 ± 0.01"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("abc", "unknown name 'abc'", id="name"),
        pytest.param("1/0", "division by zero", id="division-by-zero"),
        pytest.param("sqrt(-1)", "the value is not a real number", id="complex"),
        pytest.param("1,5", "tuples are not allowed", id="decimal-comma"),
        pytest.param("x", "unknown name 'x'", id="symbol"),
    ],
)
def test_it_says_why_a_number_cannot_be_read(text, problem):
    checked = verdict("number", {"answer": 1.5}, text)
    assert (checked.fraction, checked.problem) == (0.0, problem)


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        pytest.param({"answer": "1/3", "tolerance": 0.001}, "0.3333333333 ± 0.001", id="fraction"),
        pytest.param({"answer": 200, "relative_tolerance": 0.01}, "200 ± 1%", id="relative"),
        pytest.param({"answer": "pi"}, "3.141592654", id="irrational"),
        pytest.param({"answer": "pi", "shown": "π"}, "π", id="shown-by-the-course"),
    ],
)
def test_it_shows_the_expected_number(spec, shown):
    assert spec_check("number", spec) == []
    assert expected_text("number", spec, {}) == shown


# --- matrix -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["[1, 2; 3, 4]", "[[1, 2], [3, 4]]", "[1 2; 3 4]", "1, 2; 3, 4", "[[1,2],[3,4]]", "[1,2;3,4;]"],
)
def test_it_reads_both_matrix_syntaxes(text):
    assert answers.parse_matrix(text) == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("1 2 3", [[1.0, 2.0, 3.0]]),
        ("[1, 2, 3]", [[1.0, 2.0, 3.0]]),
        ("[1; 2; 3]", [[1.0], [2.0], [3.0]]),
        ("[sqrt(4)/2, -2^2, 1e-1]", [[1.0, -4.0, 0.1]]),
        ("[sqrt( 4 ) 2]", [[2.0, 2.0]]),
        ("[a, 2*a]", [[3.0, 6.0]]),
    ],
)
def test_it_reads_vectors_and_expression_entries(text, rows):
    assert answers.parse_matrix(text, {"a": 3}) == rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no answer was given"),
        ("[]", "a row is empty"),
        ("[1, 2; 3]", "the rows have different lengths"),
        ("[[1, 2], 3]", "mix of numbers and bracketed rows"),
        ("[1, , 2]", "an entry is empty"),
        ("[1, x]", "row 1, column 2: unknown name 'x'"),
        ("[1, __import__('os')]", "row 1, column 2: names starting with _ are not allowed"),
    ],
)
def test_it_says_why_a_matrix_cannot_be_read(text, message):
    with pytest.raises(AnswerError) as error:
        answers.parse_matrix(text)
    assert error.value.message.startswith(message)


SQUARE = {"answer": [[1, 2], [3, 4]], "tolerance": 0.5}


@pytest.mark.parametrize(
    ("spec", "text", "right"),
    [
        pytest.param(SQUARE, "[1, 2; 3, 4]", True, id="same"),
        pytest.param(SQUARE, "[[1.5, 2], [3, 3.5]]", True, id="at-the-tolerance"),
        pytest.param(SQUARE, "[[1.5000001, 2], [3, 4]]", False, id="past-the-tolerance"),
        pytest.param(SQUARE, "[1, 3; 2, 4]", False, id="transposed-matrix"),
        pytest.param(SQUARE, "[1, 2, 3; 3, 4, 5]", False, id="shape-mismatch"),
        pytest.param(SQUARE, "[1, 2, 3, 4]", False, id="flattened"),
        pytest.param({"answer": "[1, 2, 3]"}, "[1; 2; 3]", True, id="vector-as-column"),
        pytest.param({"answer": [1, 2, 3]}, "1 2 3", True, id="vector-as-row"),
        pytest.param({"answer": [1, 2, 3]}, "[1, 2]", False, id="vector-too-short"),
        pytest.param(
            {"answer": ["sqrt(2)/2", "-sqrt(2)/2"]},
            "[0.7071, -0.7071]",
            False,
            id="expression-entries-default-tolerance",
        ),
        pytest.param(
            {"answer": ["sqrt(2)/2", "-sqrt(2)/2"], "tolerance": 1e-4},
            "[0.7071, -0.7071]",
            True,
            id="expression-entries-with-tolerance",
        ),
    ],
)
def test_it_compares_matrices_entry_by_entry(spec, text, right):
    checked = verdict("matrix", spec, text)
    assert (checked.correct, checked.problem) == (right, "")


def test_it_names_the_shapes_when_they_differ():
    checked = verdict("matrix", SQUARE, "[1, 2, 3; 3, 4, 5]")
    assert checked.feedback == "The expected shape is 2 by 2; this answer's is 2 by 3."


EIGENVECTOR = {"answer": [1, 2], "mode": "eigenvector"}


@pytest.mark.parametrize(
    ("text", "right", "feedback"),
    [
        pytest.param("[1, 2]", True, "Right.", id="same"),
        pytest.param("[-1, -2]", True, "Right.", id="other-sign"),
        pytest.param("[0.5; 1]", True, "Right.", id="other-scale-as-column"),
        pytest.param("[-3, -6]", True, "Right.", id="other-sign-and-scale"),
        pytest.param("[2, 1]", False, "Not a multiple of the expected vector.", id="direction"),
        pytest.param("[1, -2]", False, "Not a multiple of the expected vector.", id="reflected"),
        pytest.param("[0, 0]", False, "The zero vector is never an eigenvector.", id="zero"),
        pytest.param("[1, 2, 0]", False, "Give one vector of length 2.", id="longer"),
    ],
)
def test_it_takes_eigenvectors_up_to_a_non_zero_scale(text, right, feedback):
    checked = verdict("matrix", EIGENVECTOR, text)
    assert (checked.correct, checked.feedback) == (right, feedback)


VECTORS = {"answer": "[1, 0, 0; 0, 1, 0; 1, 1, 1]", "mode": "set"}
EIGENVECTORS = {"answer": [[1, 1], [1, -1]], "mode": "eigenvectors"}


@pytest.mark.parametrize(
    ("spec", "text", "right", "feedback"),
    [
        pytest.param(VECTORS, "[0, 1, 0; 1, 1, 1; 1, 0, 0]", True, "Right.", id="any-order"),
        pytest.param(VECTORS, "[[1,1,1],[1,0,0],[0,1,0]]", True, "Right.", id="nested-syntax"),
        pytest.param(VECTORS, "[1, 0, 0; 1, 0, 0; 1, 1, 1]", False, "2 of 3 vectors match.",
                     id="one-vector-twice"),
        pytest.param(VECTORS, "[1, 0, 0; 0, 1, 0]", False,
                     "Give 3 vectors of length 3, one per row.", id="one-missing"),
        pytest.param(VECTORS, "[-1, 0, 0; 0, 1, 0; 1, 1, 1]", False, "2 of 3 vectors match.",
                     id="set-is-not-up-to-sign"),
        pytest.param(EIGENVECTORS, "[-2, 2; 3, 3]", True, "Right.", id="eigenvectors-scaled"),
        pytest.param(EIGENVECTORS, "[1, 1; 2, 2]", False, "1 of 2 vectors match.",
                     id="eigenvectors-same-direction-twice"),
        pytest.param(EIGENVECTORS, "[0, 0; 1, -1]", False, "1 of 2 vectors match.",
                     id="eigenvectors-zero-vector"),
    ],
)  # fmt: skip
def test_it_matches_sets_of_vectors_in_any_order(spec, text, right, feedback):
    checked = verdict("matrix", spec, text)
    assert (checked.correct, checked.feedback) == (right, feedback)


def test_it_shows_the_expected_matrix_as_it_may_be_typed():
    assert expected_text("matrix", SQUARE, {}) == "[1, 2; 3, 4]"
    assert expected_text("matrix", EIGENVECTOR, {}) == "[1, 2] (or any non-zero multiple)"
    assert expected_text("matrix", {"answer": "[1; 2]"}, {}) == "[1, 2]"
    assert answers.parse_matrix(expected_text("matrix", SQUARE, {})) == [[1, 2], [3, 4]]


# --- expression -------------------------------------------------------------------------------

X = {"symbols": ["x"]}
XY = {"symbols": ["x", "y"]}


@pytest.mark.parametrize(
    ("spec", "answer", "text", "right"),
    [
        pytest.param(X, "2*x**2 + 2*x", "2*x*(x+1)", True, id="factored"),
        pytest.param(X, "2*x**2 + 2*x", "2x^2 + 2x", None, id="implicit-product-unreadable"),
        pytest.param(X, "2*x**2 + 2*x", "2*x^2 + 2*x", True, id="caret-power"),
        pytest.param(X, "1", "sin(x)**2 + cos(x)**2", True, id="pythagoras"),
        pytest.param(X, "0", "10**10*(sin(x)**2 + cos(x)**2 - 1)", True, id="proven-exactly"),
        pytest.param(X, "x/2", "0.5*x", True, id="decimals-exact"),
        pytest.param(X, "exp(2*x)", "e^x * exp(x)", True, id="constant-e"),
        pytest.param(X, "abs(x)", "sqrt(x**2)", True, id="real-symbols"),
        pytest.param(X, "2*x**2 + 2*x", "2*x*(x+2)", False, id="not-equivalent"),
        pytest.param(X, "1", "sin(x)**2", False, id="not-pythagoras"),
        pytest.param(X, "abs(x)", "x", False, id="not-abs"),
        pytest.param(XY, "log(x) + log(y)", "log(x*y)", False, id="log-of-reals"),
        pytest.param(
            {**XY, "positive": True}, "log(x) + log(y)", "log(x*y)", True, id="log-of-positives"
        ),
        pytest.param(X, "2*sqrt(2)", "sqrt(8)", True, id="constants"),
        pytest.param({**X, "imaginary": True}, "exp(I*x)", "cos(x) + I*sin(x)", True, id="euler"),
        # Floating point loses x beside 10^20; the precise values at that point do not.
        pytest.param(X, "x", "(x + 10^20) - 10^20", True, id="cancelling-digits"),
        pytest.param(X, "x", "(x + 10^20) - 10^20 + 1", False, id="cancelling-digits-wrong"),
        pytest.param(X, "x", "sin(" * 29 + "x" + ")" * 29, False, id="deeply-nested-wrong"),
    ],
)
def test_it_checks_expressions_for_equivalence(spec, answer, text, right):
    checked = verdict("expression", {**spec, "answer": answer}, text)
    if right is None:
        assert checked.problem.startswith("could not read")
    else:
        assert (checked.correct, checked.problem) == (right, "")


def test_it_knows_i_only_when_the_question_allows_it():
    checked = verdict("expression", {**X, "answer": "x"}, "x + 0*I")
    assert checked.problem == "the imaginary unit I is not allowed in this question"


def test_it_puts_the_variant_into_the_expected_expression():
    spec = {
        **X,
        "answer": "a*x**b",
        "parameters": {"a": {"from": 2, "to": 5}, "b": {"from": 2, "to": 3}},
    }
    assert check("expression", spec, {"a": 3, "b": 2}, "3*x*x").correct
    assert not check("expression", spec, {"a": 4, "b": 2}, "3*x*x").correct
    assert check("expression", spec, {"a": 3, "b": 2}, "a*x**2").problem == "unknown name 'a'"
    assert expected_text("expression", spec, {"a": 3, "b": 2}) == "3*x^2"


def test_it_gives_up_on_a_comparison_that_runs_out_of_time():
    # Neither side has a floating-point value, and SymPy would compute 2**(10**999) exactly.
    spec = {"answer": "exp(10**999*log(2))"}
    started = time.perf_counter()
    checked = verdict("expression", spec, "exp(10**999*log(3))")
    elapsed = time.perf_counter() - started
    assert (checked.correct, checked.problem) == (
        False,
        "the answer could not be compared with the expected one in time",
    )
    assert elapsed < answers.EXACT_SECONDS + 1.5


# --- hostile answers --------------------------------------------------------------------------

HOSTILE = [
    pytest.param("__import__('os')", "names starting with _ are not allowed", id="import"),
    pytest.param("().__class__.__bases__", "attributes (.name) are not allowed", id="bases"),
    pytest.param("x.__class__", "attributes (.name) are not allowed", id="attribute"),
    pytest.param("lambda: 1", "lambda is not allowed", id="lambda"),
    pytest.param("9**9**9**9", "a power with more than 1000 digits", id="tower"),
    pytest.param("10**10**10", "a power with more than 1000 digits", id="ten-tower"),
    pytest.param("(x+1)**(2**4000)", "a power with more than 1000 digits", id="exponent"),
    pytest.param("sqrt(2)**(10**500)", "a power with more than 1000 digits", id="root-tower"),
    pytest.param("(" * 10000 + "x" + ")" * 10000, "longer than 300 characters", id="deep"),
    pytest.param("(" * 31 + "x" + ")" * 31, "brackets are nested more than 30 deep", id="deep-31"),
    pytest.param("-" * 200 + "x", "nested too deeply", id="deep-unary"),
    pytest.param("x" * 100_000, "longer than 300 characters", id="100-kB"),
    pytest.param("[x for x in ()]", "comprehensions are not allowed", id="comprehension"),
    pytest.param("'a'*10", "strings are not allowed", id="string"),
    pytest.param("b'a'", "strings are not allowed", id="bytes"),
    pytest.param("f'{x}'", "strings are not allowed", id="f-string"),
    pytest.param("x[0]", "indexing ([...]) is not allowed", id="subscript"),
    pytest.param("x < 1", "comparisons are not allowed", id="comparison"),
    pytest.param("(x := 1)", ":= is not allowed", id="walrus"),
    pytest.param("sin(*x)", "* unpacking is not allowed", id="starred"),
    pytest.param("sin(x=1)", "keyword arguments are not allowed", id="keyword"),
    pytest.param("sin(x, x)", "sin takes one argument", id="arity"),
    pytest.param("print(x)", "the function print is not allowed", id="print"),
    pytest.param("(2)(3)", "only the allowed functions can be called", id="call-a-number"),
    pytest.param("x % 2", "the operator % is not allowed", id="modulo"),
    pytest.param("1e99999999", "numbers of more than 1000 digits", id="huge-literal"),
    pytest.param("1e-99999999", "numbers of more than 1000 digits", id="tiny-literal"),
    pytest.param("2j", "imaginary numbers like 2j are not allowed", id="complex-literal"),
    pytest.param("True", "True is not allowed", id="boolean"),
    pytest.param("x\x00", "could not read", id="null-byte"),
    pytest.param("x +", "could not read", id="syntax"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_it_refuses_hostile_expressions_quickly(text, message):
    started = time.perf_counter()
    with pytest.raises(AnswerError) as error:
        answers.parse_expression(text, ["x"])
    assert time.perf_counter() - started < REFUSAL_SECONDS
    assert message in error.value.message


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_it_scores_a_hostile_answer_zero_and_says_why(text, message):
    started = time.perf_counter()
    checked = verdict("expression", {**X, "answer": "x"}, text)
    assert time.perf_counter() - started < REFUSAL_SECONDS
    assert (checked.fraction, checked.correct) == (0.0, False)
    assert message in checked.problem


@pytest.mark.parametrize("kind", ["number", "matrix", "expression"])
def test_it_runs_nothing_a_student_types(kind, tmp_path):
    marker = tmp_path / "ran"
    text = f"__import__('os').system('touch {marker}')"
    spec = {"answer": "1"} if kind != "expression" else {**X, "answer": "x"}
    checked = verdict(kind, spec, text)
    assert checked.problem != ""
    assert not marker.exists()


# --- variants ---------------------------------------------------------------------------------

PARAMETERS = {
    "a": {"from": 2, "to": 9},
    "b": {"choices": [1, 2, 5]},
    "c": {"from": 0.5, "to": 2.0, "step": 0.5},
}


def test_it_draws_the_same_variant_from_the_same_seed():
    assert answers.variant(PARAMETERS, "q1:norm:7") == answers.variant(PARAMETERS, "q1:norm:7")


def test_it_draws_the_same_variant_in_another_python_process():
    code = (
        "import json, sys; from quizzes.answers import variant; "
        "print(json.dumps(variant(json.loads(sys.argv[1]), 's:1')))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code, json.dumps(PARAMETERS)],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert runs == {json.dumps(answers.variant(PARAMETERS, "s:1")) + "\n"}


def test_it_draws_different_variants_for_different_students():
    drawn = [answers.variant(PARAMETERS, f"q1:norm:{student}") for student in range(6)]
    assert len({tuple(sorted(values.items())) for values in drawn}) > 1
    assert len({values["a"] for values in drawn}) > 1


def test_it_draws_values_within_their_ranges():
    for student in range(200):
        values = answers.variant(PARAMETERS, f"q1:norm:{student}")
        assert isinstance(values["a"], int) and 2 <= values["a"] <= 9
        assert values["b"] in (1, 2, 5)
        assert values["c"] in (0.5, 1.0, 1.5, 2.0)
    reached = {answers.variant(PARAMETERS, f"s{n}")["a"] for n in range(200)}
    assert reached == set(range(2, 10))


def test_it_refuses_to_draw_from_broken_parameters():
    with pytest.raises(ValueError, match="from must not be above to"):
        answers.variant({"a": {"from": 3, "to": 2}}, "seed")


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("A vector ({a}, {b}) of length?", "A vector (3, 0.5) of length?"),
        (r"$\frac{1}{x}$ with {c} unknown", r"$\frac{1}{x}$ with {c} unknown"),
        ("{{a}} is written {a}", "{a} is written 3"),
    ],
)
def test_it_renders_a_variant_into_the_text(text, rendered):
    assert answers.render(text, {"a": 3, "b": 0.5}) == rendered


# --- specs ------------------------------------------------------------------------------------

SOUND = [
    pytest.param("choice", ONE, id="choice"),
    pytest.param("choice", PER_OPTION, id="choice-per-option"),
    pytest.param("number", {"answer": "sqrt(a**2 + b**2)", "parameters": PARAMETERS}, id="number"),
    pytest.param("matrix", {"answer": [["a", 0], [0, 1]], "parameters": PARAMETERS}, id="matrix"),
    pytest.param("matrix", EIGENVECTORS, id="eigenvectors"),
    pytest.param("expression", {**XY, "answer": "a*x + y", "parameters": PARAMETERS}, id="expr"),
    pytest.param("derivation", {"rubric": "backprop-by-hand", "explanation": "See slides"}, id="d"),
]


@pytest.mark.parametrize(("kind", "spec"), SOUND)
def test_it_finds_no_problem_in_a_sound_spec(kind, spec):
    assert spec_check(kind, spec) == []


BROKEN = [
    ("essay", {}, "kind must be one of choice, number, matrix, expression, derivation"),
    ("choice", {"options": ["a", "b"]}, "correct is required"),
    ("choice", {**ONE, "correct": 1}, "correct must be a list of option indexes, e.g. [1]"),
    ("choice", {**ONE, "correct": [3]}, "correct must list distinct indexes from 0 to 2"),
    ("choice", {**ONE, "correct": [0, 1]}, "correct must list exactly one index unless multiple"),
    ("choice", {**ONE, "options": ["a"]}, "options must be a list of 2 to 50 texts"),
    ("choice", {**ONE, "scoring": "per_option"}, "scoring per_option needs multiple: true"),
    ("choice", {**SEVERAL, "scoring": "some"}, "scoring must be one of all_or_nothing, per_option"),
    ("number", {"answer": 1, "tolerance": -0.1}, "tolerance must be a number >= 0"),
    ("number", {"answer": 1, "relative_tolerance": "1%"}, "relative_tolerance must be a number"),
    ("number", {"answer": 1, "tolerance": 1, "relative_tolerance": 1}, "tolerance and relative"),
    ("number", {"answer": 1, "tolerence": 1}, "tolerence is not a key of a number question"),
    ("number", {"answer": "sqrt(a) + d", "parameters": PARAMETERS}, "answer: unknown name 'd'"),
    ("number", {"answer": "1/(a-2)", "parameters": PARAMETERS}, "answer: division by zero"),
    ("number", {"answer": [1]}, "answer must be a number or an expression of the parameters"),
    ("matrix", {"answer": "[1, 2; 3]"}, "answer: the rows have different lengths"),
    ("matrix", {"answer": [1, 2], "mode": "any"}, "mode must be one of exact, eigenvector, set"),
    ("matrix", {"answer": "[1, 2; 3, 4]", "mode": "eigenvector"}, "answer must be one vector"),
    ("matrix", {"answer": [0, 0], "mode": "eigenvector"}, "answer: the zero vector is never"),
    ("expression", {"answer": "x +"}, "answer: could not read 'x +' as an expression"),
    ("expression", {"answer": "y", "symbols": ["x"]}, "answer: unknown name 'y'"),
    ("expression", {"answer": "x", "symbols": ["x", "sin"]}, "symbols must be a list of names"),
    ("expression", {"answer": "x", "symbols": ["__x"]}, "symbols must be a list of names"),
    ("expression", {"answer": "x", "symbols": "x"}, "symbols must be a list of names"),
    ("expression", {"answer": "x", "positive": "yes"}, "positive must be true or false"),
    (
        "expression",
        {"answer": "a", "symbols": ["a"], "parameters": {"a": {"from": 1, "to": 2}}},
        "symbols: a name cannot be both a symbol and a parameter",
    ),
    ("derivation", {}, "rubric is required"),
    ("derivation", {"rubric": "by hand"}, "rubric must be the slug of a rubric"),
    ("derivation", {"rubric": "r", "shown": 3}, "shown must be text"),
    ("number", {"answer": 1, "parameters": {"a": {"from": 0.5, "to": 2}}},
     "parameters: a: from and to must be whole numbers, or give a step"),
    ("number", {"answer": 1, "parameters": {"a": {"from": 0, "to": 1, "step": 0}}},
     "parameters: a: step must be above 0"),
    ("number", {"answer": 1, "parameters": {"a": {"choices": []}}},
     "parameters: a: choices must be a list of 1 to 100 numbers"),
    ("number", {"answer": 1, "parameters": {"a": {"choices": [1], "from": 1}}},
     "parameters: a: choices cannot be combined with from, to or step"),
    ("number", {"answer": 1, "parameters": {"pi": {"from": 1, "to": 2}}},
     "parameters: 'pi' is not a usable name"),
    ("number", {"answer": 1, "parameters": [1, 2]}, "parameters must map names"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "spec", "problem"), BROKEN)
def test_it_names_the_key_of_each_problem(kind, spec, problem):
    problems = spec_check(kind, spec)
    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_it_leaves_derivations_to_staff():
    assert not answers.auto_checked("derivation")
    with pytest.raises(ValueError, match="not checked automatically"):
        check("derivation", {"rubric": "r"}, {}, "see upload")
    assert expected_text("derivation", {"rubric": "r"}, {}) == ""


def test_it_adds_the_course_explanation_to_every_verdict():
    spec = {**ONE, "explanation": "Two plus one is {a}."}
    assert check("choice", spec, {"a": 3}, "1").feedback == "Right. Two plus one is 3."
    assert check("choice", spec, {"a": 3}, "x").feedback == "Two plus one is 3."


def test_it_raises_when_the_spec_cannot_give_an_answer_for_the_variant():
    spec = {"answer": "1/(a-3)", "parameters": {"a": {"from": 2, "to": 4}}}
    assert spec_check("number", spec) == []
    with pytest.raises(ValueError, match="answer: division by zero"):
        check("number", spec, {"a": 3}, "1")
