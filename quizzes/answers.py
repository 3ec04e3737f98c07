"""Checking the answers of online quizzes: pure Python and SymPy, no Django.

A question's *spec* is the plain mapping of its kind's own keys, as read from the course file
(the question's key, kind, points and text are the caller's). Students type their answers as
text; nothing they type is ever handed to ``eval``, ``exec``, ``sympify`` or ``parse_expr``.

The API
-------
``spec_check(kind, spec) -> list[str]``
    The problems of a spec, each a short sentence naming its key; ``[]`` when it is sound.
``auto_checked(kind) -> bool``
    Whether this module scores the kind (every kind but ``derivation``).
``variant(parameters, seed) -> dict[str, int | float]``
    A student's values of the question's parameters, drawn from ``seed``.
``render(text, values) -> str``
    A question's (or an option's) text with ``{a}`` replaced by the value of ``a``.
``check(kind, spec, values, text) -> Checked``
    The verdict on an answer; ``Checked.fraction`` of the question's points is earned.
``expected_text(kind, spec, values) -> str``
    The right answer as shown to the student once answers are shown.
``parse_expression(text, symbols=(), *, values=None, imaginary=False, positive=False)``
    The safe parser: a SymPy expression, or ``AnswerError``.
``parse_matrix(text, values=None) -> list[list[float]]``
    A vector or matrix typed as text, or ``AnswerError``.

The rules
---------
Keys every kind may have
    ``parameters`` (see Variants), ``explanation`` (a text added to every verdict's feedback)
    and ``shown`` (a text shown as the right answer instead of the computed one). Both texts
    may use ``{a}``. Any other key that the kind does not name is a problem.
choice
    ``options`` (2 to 50 texts), ``correct`` (a list of option indexes, counted from 0),
    ``multiple`` (default false: exactly one option is correct and one is chosen) and
    ``scoring``: ``all_or_nothing`` (default) or ``per_option`` (needs ``multiple``). An answer
    is the chosen indexes as text, ``"2"`` or ``"0,2"``. Per option, each option marked right
    (chosen and correct, or neither) earns ``1/len(options)`` and each marked wrong takes as
    much off; the total is never below 0.
number
    ``answer`` (a number, or an expression of the parameters) and either ``tolerance``
    (absolute, default 0) or ``relative_tolerance`` (of the expected value). An answer is an
    expression of numbers: ``3.5``, ``-2e-3``, ``1/3``, ``sqrt(2)``. It is right when its
    distance to the expected value is at most the tolerance, exactly at the bound included:
    when both values are rational (decimals written in the file or typed are read exactly) the
    distance is computed exactly, otherwise in floating point.
matrix
    ``answer`` (text as typed, or a list of entries, or a list of rows; entries are numbers or
    expressions of the parameters), ``tolerance`` (absolute per entry, default 1e-6) and
    ``mode``: ``exact`` (default: same shape, every entry within the tolerance; a vector may be
    typed as a row or as a column), ``eigenvector`` (one vector, right when it is a non-zero
    multiple of the expected one: both are normalized and compared up to sign, the tolerance
    applying to the normalized entries; the zero vector is never right), ``set`` (each row is a
    vector, the rows may come in any order, each expected vector matched by exactly one) or
    ``eigenvectors`` (a set whose vectors are each compared as in ``eigenvector``). Text is
    ``[1, 2; 3, 4]`` (rows separated by ``;``, entries by commas or spaces), ``[[1, 2], [3, 4]]``,
    ``[1, 2, 3]`` or ``1 2 3``; entries may be expressions like ``sqrt(2)/2``.
expression
    ``answer`` (an expression of ``symbols`` and of the parameters), ``symbols`` (names,
    default none), ``positive`` (the symbols stand for positive numbers; default: any real
    number) and ``imaginary`` (``I`` may be used). An answer is right when it equals the
    expected expression: when the two agree at several points (relative difference 1e-9), or
    else when SymPy proves their difference zero (``expand``, then ``simplify``) in a forked
    process killed after 2 seconds, so that no input can hang the caller.
derivation
    ``rubric`` (the slug of the rubric staff score the upload with). Not checked here.
The safe parser
    The text (at most 300 characters, ``^`` read as ``**``, brackets nested at most 30 deep,
    counted before parsing) is parsed by ``ast.parse`` and its tree walked with a whitelist:
    numbers (at most 1000 digits), the question's symbols, ``pi``, ``e`` (or ``E``), ``I`` when
    allowed, the functions of ``FUNCTIONS`` and ``sqrt`` with one argument, ``+ - * / **``.
    Anything else is refused, naming what is not allowed. Nothing is computed while the tree is
    built (SymPy's ``evaluate=False``), and a power of numbers whose value would have more than
    about 1000 digits is refused before anything else sees it.
Variants
    ``parameters`` maps names to ``{from: 2, to: 9}`` (whole numbers, both ends included),
    ``{from: 0.5, to: 2.0, step: 0.5}`` or ``{choices: [1, 2, 5]}``. The values are drawn in the
    order of the names from ``random.Random(sha256(seed))``: the same seed always gives the same
    values, in any process. The parameters' values enter expressions as exact numbers.
Errors
    An answer that cannot be read scores 0 and ``Checked.problem`` says why. A spec that cannot
    give an expected answer for the values at hand raises ``ValueError`` (``spec_check`` finds
    such specs when the course file is read, for the first value of every parameter).
"""

from __future__ import annotations

import ast
import cmath
import hashlib
import keyword
import math
import os
import random
import re
import resource
import select
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import sympy

KINDS = ("choice", "number", "matrix", "expression", "derivation")
AUTO_CHECKED = frozenset(("choice", "number", "matrix", "expression"))
MODES = ("exact", "eigenvector", "set", "eigenvectors")
SCORINGS = ("all_or_nothing", "per_option")
# The course file reader's SLUG_RE and length, spelled out so that this module runs without
# Django.
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")

MAX_CHARS = 300
MAX_MATRIX_CHARS = 4000
MAX_ENTRIES = 400
MAX_DEPTH = 30
# With at most 300 characters the tree cannot be much deeper; the bound keeps every recursion
# that follows (ours and SymPy's) far from Python's limit.
MAX_TREE_DEPTH = 100
MAX_DIGITS = 1000
MAX_OPTIONS = 50
MAX_PARAMETERS = 20
MAX_CHOICES = 100
DEFAULT_MATRIX_TOLERANCE = 1e-6

EXACT_SECONDS = 2.0
EXACT_MEMORY_BYTES = 1 << 30
SAMPLE_POINTS = 12
SAMPLE_POINTS_NEEDED = 6
SAMPLE_SEED = 541
RELATIVE_AGREEMENT = 1e-9
PRECISE_DIGITS = 40
ABSOLUTE_AGREEMENT = 1e-12

FUNCTIONS: dict[str, Any] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "asinh": sympy.asinh,
    "acosh": sympy.acosh,
    "atanh": sympy.atanh,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "abs": sympy.Abs,
}
CONSTANTS: dict[str, Any] = {"pi": sympy.pi, "e": sympy.E, "E": sympy.E}
RESERVED = frozenset((*FUNCTIONS, "sqrt", *CONSTANTS, "I"))

NUMERIC: dict[Any, Callable[[complex], complex]] = {
    sympy.sin: cmath.sin,
    sympy.cos: cmath.cos,
    sympy.tan: cmath.tan,
    sympy.cot: lambda z: 1 / cmath.tan(z),
    sympy.sec: lambda z: 1 / cmath.cos(z),
    sympy.csc: lambda z: 1 / cmath.sin(z),
    sympy.asin: cmath.asin,
    sympy.acos: cmath.acos,
    sympy.atan: cmath.atan,
    sympy.sinh: cmath.sinh,
    sympy.cosh: cmath.cosh,
    sympy.tanh: cmath.tanh,
    sympy.asinh: cmath.asinh,
    sympy.acosh: cmath.acosh,
    sympy.atanh: cmath.atanh,
    sympy.exp: cmath.exp,
    sympy.log: cmath.log,
    sympy.Abs: lambda z: complex(abs(z)),
}
NUMERIC_CONSTANTS: dict[Any, complex] = {
    sympy.pi: complex(math.pi),
    sympy.E: complex(math.e),
    sympy.I: 1j,
}

# Everything else is refused too; these are only named in the students' words.
REFUSED_NODES = {
    ast.Attribute: "attributes (.name) are not allowed",
    ast.Subscript: "indexing ([...]) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "and/or are not allowed",
    ast.IfExp: "if/else is not allowed",
    ast.NamedExpr: ":= is not allowed",
    ast.Starred: "* unpacking is not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.JoinedStr: "strings are not allowed",
}
OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
OPERATOR_NAMES = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
}


class AnswerError(ValueError):
    """A text that cannot be read as an answer; the message says why, for the student."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Checked:
    fraction: float
    correct: bool
    feedback: str = ""
    problem: str = ""


class _Unevaluable(Exception):
    """A value that floating point cannot give (overflow, a pole, an unknown node)."""


# ---------------------------------------------------------------------------------------------
# The safe parser


def parse_expression(
    text: str,
    symbols: Iterable[str] = (),
    *,
    values: Mapping[str, float] | None = None,
    imaginary: bool = False,
    positive: bool = False,
) -> sympy.Expr:
    """The expression typed in ``text``, unevaluated, as a SymPy expression.

    ``symbols`` become real (or, with ``positive``, positive) SymPy symbols; ``values`` give
    names a number (a parameter's value, exactly); ``I`` is known only with ``imaginary``.
    Raises ``AnswerError`` for anything outside the whitelist of the module doc.
    """
    return _parse(text, _names(symbols, values, imaginary, positive), evaluate=False)


def _names(
    symbols: Iterable[str],
    values: Mapping[str, float] | None,
    imaginary: bool,
    positive: bool,
) -> dict[str, Any]:
    names: dict[str, Any] = dict(CONSTANTS)
    if imaginary:
        names["I"] = sympy.I
    assumption = {"positive": True} if positive else {"real": True}
    names.update((name, sympy.Symbol(name, **assumption)) for name in symbols)
    names.update((name, _sympy_number(value)) for name, value in (values or {}).items())
    return names


def _sympy_number(value: float) -> Any:
    exact = _exact_number(value)
    return sympy.Rational(exact.numerator, exact.denominator)


def _exact_number(value: float) -> Fraction:
    """A number of the course file as the decimal it was written as (0.1 is 1/10)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return Fraction(value) if isinstance(value, int) else Fraction(repr(value))


def _parse(text: str, names: Mapping[str, Any], *, evaluate: bool) -> Any:
    if not isinstance(text, str):
        raise AnswerError("the answer must be text")
    if len(text) > MAX_CHARS:
        raise AnswerError(f"the expression is longer than {MAX_CHARS} characters")
    if not text.strip():
        raise AnswerError("no answer was given")
    _check_nesting(text)
    source = text.strip().replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise AnswerError(f"could not read {_shown(text)} as an expression") from None
    return _Builder(source, names, evaluate).build(tree.body, 1)


def _check_nesting(text: str) -> None:
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise AnswerError(f"brackets are nested more than {MAX_DEPTH} deep")
        elif char in ")]}":
            depth -= 1


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


class _Builder:
    """Builds the SymPy expression of a whitelisted tree, bottom-up, refusing the rest."""

    def __init__(self, source: str, names: Mapping[str, Any], evaluate: bool) -> None:
        self.source = source
        self.names = names
        self.evaluate = evaluate

    def build(self, node: ast.expr, depth: int) -> Any:
        if depth > MAX_TREE_DEPTH:
            raise AnswerError("the expression is nested too deeply")
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise AnswerError(REFUSED_NODES.get(type(node), f"{type(node).__name__} is not allowed"))

    def constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise AnswerError(f"{value!r} is not allowed")
        if isinstance(value, int):
            if value and math.log10(value) > MAX_DIGITS:
                raise AnswerError(f"numbers of more than {MAX_DIGITS} digits are not allowed")
            return sympy.Integer(value)
        if isinstance(value, float):
            return self.decimal(ast.get_source_segment(self.source, node) or "")
        if isinstance(value, complex):
            raise AnswerError(
                "imaginary numbers like 2j are not allowed (write 2*I if I is allowed)"
            )
        raise AnswerError("strings are not allowed")

    @staticmethod
    def decimal(literal: str) -> Any:
        # Read exactly, as written; the exponent is bounded first, as 1e-99999999 would
        # otherwise build a denominator of a hundred million digits.
        try:
            number = Decimal(literal)
        except InvalidOperation:
            raise AnswerError(f"could not read the number {_shown(literal)}") from None
        if not number.is_finite() or abs(number.adjusted()) > MAX_DIGITS:
            raise AnswerError(f"numbers of more than {MAX_DIGITS} digits are not allowed")
        exact = Fraction(number)
        return sympy.Rational(exact.numerator, exact.denominator)

    def name(self, name: str) -> Any:
        if name in self.names:
            return self.names[name]
        if name.startswith("_"):
            raise AnswerError(f"names starting with _ are not allowed ({name})")
        if name in FUNCTIONS or name == "sqrt":
            raise AnswerError(f"{name} is a function: write {name}(...)")
        if name == "I":
            raise AnswerError("the imaginary unit I is not allowed in this question")
        raise AnswerError(f"unknown name {name!r}")

    def unary(self, node: ast.UnaryOp, depth: int) -> Any:
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand, depth + 1)
        if isinstance(node.op, ast.USub):
            return sympy.Mul(-1, self.build(node.operand, depth + 1), evaluate=self.evaluate)
        raise AnswerError(f"the operator {OPERATOR_NAMES.get(type(node.op), '?')} is not allowed")

    def binary(self, node: ast.BinOp, depth: int) -> Any:
        if not isinstance(node.op, OPERATORS):
            raise AnswerError(
                f"the operator {OPERATOR_NAMES.get(type(node.op), '?')} is not allowed"
            )
        left = self.build(node.left, depth + 1)
        right = self.build(node.right, depth + 1)
        evaluate = self.evaluate
        if isinstance(node.op, ast.Add):
            return sympy.Add(left, right, evaluate=evaluate)
        if isinstance(node.op, ast.Sub):
            return sympy.Add(left, sympy.Mul(-1, right, evaluate=evaluate), evaluate=evaluate)
        if isinstance(node.op, ast.Mult):
            return sympy.Mul(left, right, evaluate=evaluate)
        if isinstance(node.op, ast.Div):
            return sympy.Mul(left, self.power(right, sympy.Integer(-1)), evaluate=evaluate)
        return self.power(left, right)

    def power(self, base: Any, exponent: Any) -> Any:
        _guard_power(base, exponent)
        return sympy.Pow(base, exponent, evaluate=self.evaluate)

    def call(self, node: ast.Call, depth: int) -> Any:
        if not isinstance(node.func, ast.Name):
            self.build(node.func, depth + 1)  # names what is refused, if something is
            raise AnswerError("only the allowed functions can be called")
        name = node.func.id
        if name not in FUNCTIONS and name != "sqrt":
            if name.startswith("_"):
                raise AnswerError(f"names starting with _ are not allowed ({name})")
            raise AnswerError(f"the function {name} is not allowed")
        if node.keywords:
            raise AnswerError("keyword arguments are not allowed")
        if len(node.args) != 1:
            raise AnswerError(f"{name} takes one argument")
        argument = self.build(node.args[0], depth + 1)
        if name == "sqrt":
            return self.power(argument, sympy.Rational(1, 2))
        return FUNCTIONS[name](argument, evaluate=self.evaluate)


def _guard_power(base: Any, exponent: Any) -> None:
    """Refuse a power of numbers whose exact value would have more than MAX_DIGITS digits."""
    if base.free_symbols or exponent.free_symbols:
        return
    try:
        digits = _log10_size(base) * abs(_approx(exponent, {}))
    except _Unevaluable:
        digits = math.inf
    if digits > MAX_DIGITS:
        raise AnswerError(f"a power with more than {MAX_DIGITS} digits is not allowed")


def _log10_size(expr: Any) -> float:
    """About how many digits the exact value of a constant takes (0 for pi, e, sin(1), ...)."""
    if isinstance(expr, sympy.Rational):
        return max(_int_log10(int(expr.p)), _int_log10(int(expr.q)))
    if isinstance(expr, sympy.Pow):
        return _log10_size(expr.base) * abs(_approx(expr.exp, {}))
    if isinstance(expr, sympy.Add | sympy.Mul):
        return sum(_log10_size(arg) for arg in expr.args)
    return 0.0


def _int_log10(number: int) -> float:
    return math.log10(abs(number)) if number else 0.0


# ---------------------------------------------------------------------------------------------
# Values of expressions, computed by this module alone so that their cost stays bounded


def _approx(expr: Any, point: Mapping[Any, complex]) -> complex:
    """The value of an unevaluated expression in floating point, at ``point`` (symbol: value)."""
    try:
        value = _approx_node(expr, point)
    except (OverflowError, ZeroDivisionError, ValueError, KeyError) as error:
        raise _Unevaluable(str(error)) from None
    if not cmath.isfinite(value):
        raise _Unevaluable("not finite")
    return value


def _approx_node(expr: Any, point: Mapping[Any, complex]) -> complex:
    if isinstance(expr, sympy.Rational):
        return complex(int(expr.p) / int(expr.q))
    if isinstance(expr, sympy.Symbol):
        return point[expr]
    if expr in NUMERIC_CONSTANTS:
        return NUMERIC_CONSTANTS[expr]
    if isinstance(expr, sympy.Add):
        return sum((_approx_node(arg, point) for arg in expr.args), 0j)
    if isinstance(expr, sympy.Mul):
        product = 1 + 0j
        for arg in expr.args:
            product *= _approx_node(arg, point)
        return product
    if isinstance(expr, sympy.Pow):
        return _power(_approx_node(expr.base, point), _approx_node(expr.exp, point))
    function = NUMERIC.get(expr.func)
    if function is None or len(expr.args) != 1:
        raise ValueError(f"cannot evaluate {type(expr).__name__}")
    return function(_approx_node(expr.args[0], point))


def _power(base: complex, exponent: complex) -> complex:
    if exponent.imag == 0 and exponent.real.is_integer():
        return base ** int(exponent.real)
    if base.imag == 0 and base.real >= 0 and exponent.imag == 0:
        return complex(base.real**exponent.real)
    return base**exponent


def _exact(expr: Any) -> Fraction | None:
    """The exact rational value of an expression of rational numbers, else None."""
    if isinstance(expr, sympy.Rational):
        return Fraction(int(expr.p), int(expr.q))
    if isinstance(expr, sympy.Add | sympy.Mul):
        adding = isinstance(expr, sympy.Add)
        total = Fraction(0 if adding else 1)
        for arg in expr.args:
            part = _exact(arg)
            if part is None:
                return None
            total = total + part if adding else total * part
        return total
    if isinstance(expr, sympy.Pow):
        base, exponent = _exact(expr.base), _exact(expr.exp)
        if base is None or exponent is None or exponent.denominator != 1:
            return None
        if base == 0 and exponent < 0:
            raise AnswerError("division by zero")
        size = max(_int_log10(base.numerator), _int_log10(base.denominator))
        if size * abs(exponent) > MAX_DIGITS:
            return None
        return base ** int(exponent)
    return None


def _real(expr: Any) -> float:
    """A constant expression's real value, or AnswerError saying why there is none."""
    try:
        value = _approx(expr, {})
    except _Unevaluable:
        raise AnswerError("the value could not be computed: too large, or undefined") from None
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
        raise AnswerError("the value is not a real number")
    return value.real


def _constant(text: str, values: Mapping[str, float]) -> Any:
    expr = parse_expression(text, values=values)
    if expr.free_symbols:
        raise AnswerError(f"unknown name {sorted(map(str, expr.free_symbols))[0]!r}")
    return expr


# ---------------------------------------------------------------------------------------------
# Symbolic equivalence


def _equivalent(answer: Any, expected: Any, positive: bool) -> tuple[bool, str]:
    """Whether two expressions are equal, and a problem when that could not be decided."""
    agreement, differing = _agree_numerically(answer, expected, positive)
    if agreement is True:
        return True, ""
    proven = _proven_equal(answer, expected, differing)
    if proven:
        return True, ""
    if agreement is None and proven is None:
        return False, "the answer could not be compared with the expected one in time"
    return False, ""


def _agree_numerically(
    answer: Any, expected: Any, positive: bool
) -> tuple[bool | None, dict[Any, complex] | None]:
    """True when both agree at every sampled point where either has a value, False when they
    differ at one (with that point), None when too few points give values to tell."""
    symbols = sorted(answer.free_symbols | expected.free_symbols, key=str)
    rng = random.Random(SAMPLE_SEED)  # noqa: S311 - fixed points: the same answer, the same verdict
    counted = 0
    for _ in range(SAMPLE_POINTS if symbols else 1):
        point = {symbol: complex(_sample(rng, positive)) for symbol in symbols}
        left, right = _value_at(answer, point), _value_at(expected, point)
        if left is None and right is None:
            continue
        if left is None or right is None:
            return False, None
        scale = max(abs(left), abs(right))
        if abs(left - right) > RELATIVE_AGREEMENT * scale + ABSOLUTE_AGREEMENT:
            return False, point
        counted += 1
    return (True if counted >= (SAMPLE_POINTS_NEEDED if symbols else 1) else None), None


def _sample(rng: random.Random, positive: bool) -> float:
    magnitude = rng.uniform(0.2, 2.5)
    return magnitude if positive or rng.random() < 0.5 else -magnitude


def _value_at(expr: Any, point: Mapping[Any, complex]) -> complex | None:
    try:
        return _approx(expr, point)
    except _Unevaluable:
        return None


def _proven_equal(
    answer: Any, expected: Any, differing: Mapping[Any, complex] | None = None
) -> bool | None:
    """Whether SymPy proves ``answer - expected`` zero, in a forked child killed after
    EXACT_SECONDS; None when it ran out of time or memory (or could not be started).

    ``differing`` is a point where the two differed in floating point. The child first computes
    both there to PRECISE_DIGITS digits: where they still differ, they are not equal, and no
    simplification is tried (floating point can only be wrong where digits cancel, and there
    the precise values agree).

    ``os.fork`` rather than multiprocessing: a Celery worker's daemonic processes may not start
    multiprocessing children, and the child needs nothing but the two expressions it already
    shares with its parent. It touches nothing else of the parent's (database connections
    included) and leaves by ``os._exit``.
    """
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # pragma: no cover - the child reports through the pipe and never returns
        code = 1
        try:
            os.close(reader)
            _limit_memory()
            difference = answer - expected
            if differing is not None and _differ_precisely(answer, expected, differing):
                equal = False
            else:
                equal = sympy.expand(difference) == 0 or sympy.simplify(difference) == 0
            os.write(writer, b"1" if equal else b"0")
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    try:
        # poll, not select: a busy web process may hold descriptors beyond select's 1024.
        waiting = select.poll()
        waiting.register(reader, select.POLLIN)
        verdict = os.read(reader, 1) if waiting.poll(EXACT_SECONDS * 1000) else b""
    finally:
        os.close(reader)
        os.kill(pid, signal.SIGKILL)  # the child is not reaped yet, so the pid is still its own
        os.waitpid(pid, 0)
    return {b"1": True, b"0": False}.get(verdict)


def _differ_precisely(answer: Any, expected: Any, point: Mapping[Any, complex]) -> bool:
    """Whether both have a finite value at ``point``, to PRECISE_DIGITS digits, and the values
    differ by more than the agreement floating point asks for."""
    at = {symbol: sympy.Float(value.real, PRECISE_DIGITS) for symbol, value in point.items()}
    left = complex(answer.evalf(PRECISE_DIGITS, subs=at))
    right = complex(expected.evalf(PRECISE_DIGITS, subs=at))
    if not (cmath.isfinite(left) and cmath.isfinite(right)):
        return False
    scale = max(abs(left), abs(right))
    return abs(left - right) > RELATIVE_AGREEMENT * scale + ABSOLUTE_AGREEMENT


def _limit_memory() -> None:
    """Let the child grow by at most EXACT_MEMORY_BYTES beyond what it shares with its parent."""
    try:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = used + EXACT_MEMORY_BYTES
        if hard == resource.RLIM_INFINITY or limit <= hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        return


# ---------------------------------------------------------------------------------------------
# Matrices


def parse_matrix(text: str, values: Mapping[str, float] | None = None) -> list[list[float]]:
    """The rows of a vector or matrix typed as ``[1, 2; 3, 4]``, ``[[1, 2], [3, 4]]``,
    ``[1, 2, 3]`` or ``1 2 3`` (a vector is one row). Entries are constant expressions; names
    in ``values`` stand for their numbers."""
    if not isinstance(text, str):
        raise AnswerError("the answer must be text")
    if len(text) > MAX_MATRIX_CHARS:
        raise AnswerError(f"the answer is longer than {MAX_MATRIX_CHARS} characters")
    _check_nesting(text)
    body = text.strip()
    if not body:
        raise AnswerError("no answer was given")
    inner = _unbracketed(body) if _bracketed(body) else body
    rows_text = _split(inner, ";")
    if len(rows_text) > 1:
        if not rows_text[-1].strip():
            rows_text.pop()  # a trailing ';'
        rows = [_entries(row) for row in rows_text]
    else:
        items = _entries(inner)
        nested = [_bracketed(item) for item in items]
        if all(nested):
            rows = [_entries(_unbracketed(item)) for item in items]
        elif any(nested):
            raise AnswerError("mix of numbers and bracketed rows")
        else:
            rows = [items]
    if any(len(row) != len(rows[0]) for row in rows):
        raise AnswerError("the rows have different lengths")
    if sum(map(len, rows)) > MAX_ENTRIES:
        raise AnswerError(f"more than {MAX_ENTRIES} entries")
    return [
        [_entry(entry, values or {}, r, c) for c, entry in enumerate(row, 1)]
        for r, row in enumerate(rows, 1)
    ]


def _bracketed(text: str) -> bool:
    """Whether text is one bracket pair around the rest: ``[1, 2]`` but not ``[1] + [2]``."""
    if not (text.startswith("[") and text.endswith("]")):
        return False
    depth = 0
    for position, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0:
            return position == len(text) - 1
    return False


def _unbracketed(text: str) -> str:
    return text[1:-1].strip()


def _split(text: str, separator: str) -> list[str]:
    """Split at the separator where it is outside every bracket."""
    parts, depth, start = [], 0, 0
    for position, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0 and char == separator:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return parts


def _entries(row: str) -> list[str]:
    row = row.strip()
    if not row:
        raise AnswerError("a row is empty")
    commas = _split(row, ",")
    if len(commas) > 1:
        entries = [entry.strip() for entry in commas]
    else:
        entries = [entry for entry in re.split(r"\s+", row) if entry]
        # Spaces inside brackets belong to one entry: join the pieces back while unbalanced.
        entries = _rejoin(entries)
    if any(not entry for entry in entries):
        raise AnswerError("an entry is empty")
    return entries


def _rejoin(pieces: list[str]) -> list[str]:
    joined: list[str] = []
    depth = 0
    for piece in pieces:
        if depth > 0:
            joined[-1] += " " + piece
        else:
            joined.append(piece)
        depth += sum(char in "([{" for char in piece) - sum(char in ")]}" for char in piece)
    return joined


def _entry(text: str, values: Mapping[str, float], row: int, column: int) -> float:
    try:
        return _real(_constant(text, values))
    except AnswerError as error:
        raise AnswerError(f"row {row}, column {column}: {error.message}") from None


def _expected_matrix(spec: Mapping[str, Any], values: Mapping[str, float]) -> list[list[float]]:
    answer = spec["answer"]
    if isinstance(answer, str):
        return parse_matrix(answer, values)
    if not isinstance(answer, list) or not answer:
        raise AnswerError("give a matrix as text, a list of entries or a list of rows")
    rows = answer if all(isinstance(row, list) for row in answer) else [answer]
    if any(len(row) != len(rows[0]) or not row for row in rows):
        raise AnswerError("the rows must be non-empty and of one length")
    return [
        [_spec_entry(entry, values, r, c) for c, entry in enumerate(row, 1)]
        for r, row in enumerate(rows, 1)
    ]


def _spec_entry(entry: Any, values: Mapping[str, float], row: int, column: int) -> float:
    if isinstance(entry, str):
        return _entry(entry, values, row, column)
    try:
        return float(_exact_number(entry))
    except ValueError:
        raise AnswerError(f"row {row}, column {column}: {entry!r} is not a number") from None


def _as_vector(rows: list[list[float]]) -> list[float] | None:
    if len(rows) == 1:
        return rows[0]
    if all(len(row) == 1 for row in rows):
        return [row[0] for row in rows]
    return None


def _close(left: Sequence[float], right: Sequence[float], tolerance: float) -> bool:
    return len(left) == len(right) and all(
        abs(a - b) <= tolerance for a, b in zip(left, right, strict=True)
    )


def _same_direction(answer: Sequence[float], expected: Sequence[float], tolerance: float) -> bool:
    if len(answer) != len(expected):
        return False
    answer_norm, expected_norm = math.hypot(*answer), math.hypot(*expected)
    if answer_norm == 0 or expected_norm == 0 or not math.isfinite(answer_norm):
        return False
    unit = [a / answer_norm for a in answer]
    target = [e / expected_norm for e in expected]
    return _close(unit, target, tolerance) or _close(unit, [-e for e in target], tolerance)


def _matched(
    answers: list[list[float]],
    expected: list[list[float]],
    same: Callable[[Sequence[float], Sequence[float]], bool],
) -> int:
    """How many expected vectors can each be paired with its own answered vector."""
    fits = [[j for j, vector in enumerate(expected) if same(answer, vector)] for answer in answers]
    owner: dict[int, int] = {}

    def place(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return sum(place(i, set()) for i in range(len(answers)))


def _shape(rows: list[list[float]]) -> str:
    return f"{len(rows)} by {len(rows[0])}"


def _check_matrix(spec: Mapping[str, Any], values: Mapping[str, float], text: str) -> Checked:
    expected = _expected_or_raise(_expected_matrix, spec, values)
    try:
        answer = parse_matrix(text)
    except AnswerError as error:
        return _unreadable(spec, values, error)
    mode = spec.get("mode", "exact")
    tolerance = float(spec.get("tolerance", DEFAULT_MATRIX_TOLERANCE))
    if mode in ("set", "eigenvectors"):
        if len(answer) != len(expected) or len(answer[0]) != len(expected[0]):
            return _verdict(
                spec,
                values,
                False,
                f"Give {len(expected)} vectors of length {len(expected[0])}, one per row.",
            )
        same: Callable[[Sequence[float], Sequence[float]], bool] = (
            (lambda a, e: _same_direction(a, e, tolerance))
            if mode == "eigenvectors"
            else (lambda a, e: _close(a, e, tolerance))
        )
        matched = _matched(answer, expected, same)
        if matched == len(expected):
            return _verdict(spec, values, True, "Right.")
        return _verdict(spec, values, False, f"{matched} of {len(expected)} vectors match.")
    vector, target = _as_vector(answer), _as_vector(expected)
    if mode == "eigenvector":
        assert target is not None  # spec_check: the expected answer is one vector
        if vector is None or len(vector) != len(target):
            return _verdict(spec, values, False, f"Give one vector of length {len(target)}.")
        if not any(vector):
            return _verdict(spec, values, False, "The zero vector is never an eigenvector.")
        if _same_direction(vector, target, tolerance):
            return _verdict(spec, values, True, "Right.")
        return _verdict(spec, values, False, "Not a multiple of the expected vector.")
    if vector is not None and target is not None:
        # A vector is a vector whether typed as a row or as a column.
        answer, expected = [vector], [target]
    if len(answer) != len(expected) or len(answer[0]) != len(expected[0]):
        return _verdict(
            spec,
            values,
            False,
            f"The expected shape is {_shape(expected)}; this answer's is {_shape(answer)}.",
        )
    right = all(_close(a, e, tolerance) for a, e in zip(answer, expected, strict=True))
    return _verdict(spec, values, right, "Right." if right else "Not within the tolerance.")


def _matrix_text(rows: list[list[float]]) -> str:
    return "[" + "; ".join(", ".join(_number_text(entry) for entry in row) for row in rows) + "]"


# ---------------------------------------------------------------------------------------------
# Variants and texts


def variant(parameters: Mapping[str, Any], seed: str) -> dict[str, int | float]:
    """The values of the parameters for ``seed``, drawn in the order of their names."""
    problems = _parameter_problems(parameters)
    if problems:
        raise ValueError(problems[0])
    # Reproducible, not secret: a variant only has to differ between students.
    rng = random.Random(hashlib.sha256(seed.encode()).digest())  # noqa: S311
    values: dict[str, int | float] = {}
    for name in sorted(parameters):
        rule = parameters[name]
        if "choices" in rule:
            values[name] = rng.choice(rule["choices"])
            continue
        start, step = _exact_number(rule["from"]), _exact_number(rule.get("step", 1))
        count = math.floor((_exact_number(rule["to"]) - start) / step) + 1
        value = start + rng.randrange(count) * step
        whole = all(isinstance(rule.get(key, 1), int) for key in ("from", "step"))
        values[name] = int(value) if whole else float(value)
    return values


def _lowest(parameters: Mapping[str, Any]) -> dict[str, int | float]:
    """The first value of every parameter: the variant spec_check computes answers for."""
    return {
        name: rule["choices"][0] if "choices" in rule else rule["from"]
        for name, rule in parameters.items()
    }


NAME_IN_TEXT = re.compile(r"\{\{([A-Za-z][A-Za-z0-9_]*)\}\}|\{([A-Za-z][A-Za-z0-9_]*)\}")


def render(text: str, values: Mapping[str, float]) -> str:
    """``text`` with ``{a}`` replaced by the value of the parameter ``a``. ``{{a}}`` stays
    ``{a}``, and braces around anything else (LaTeX's ``\\frac{1}{x}``) are left alone."""

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.groups()
        if escaped is not None:
            return "{" + escaped + "}"
        return _number_text(values[name]) if name in values else match.group(0)

    return NAME_IN_TEXT.sub(replace, text)


def _number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    shown = f"{value:.10g}"
    return "0" if shown == "-0" else shown


def _fraction_text(value: Fraction | float) -> str:
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    return _number_text(float(value))


def expected_text(kind: str, spec: Mapping[str, Any], values: Mapping[str, float]) -> str:
    """The right answer as shown to students: ``shown`` when the spec has it, else computed
    (a derivation without ``shown`` has none: ``""``)."""
    if "shown" in spec:
        return render(str(spec["shown"]), values)
    if kind == "choice":
        options = spec["options"]
        return "; ".join(render(str(options[i]), values) for i in sorted(spec["correct"]))
    if kind == "number":
        shown = _fraction_text(_expected_or_raise(_expected_number, spec, values))
        if spec.get("tolerance"):
            return f"{shown} ± {_number_text(spec['tolerance'])}"
        if spec.get("relative_tolerance"):
            return f"{shown} ± {_number_text(spec['relative_tolerance'] * 100)}%"
        return shown
    if kind == "matrix":
        rows = _expected_or_raise(_expected_matrix, spec, values)
        mode = spec.get("mode", "exact")
        vector = _as_vector(rows)
        shown = _matrix_text([vector] if mode in ("exact", "eigenvector") and vector else rows)
        return (
            shown
            + {
                "exact": "",
                "eigenvector": " (or any non-zero multiple)",
                "set": " (one vector per row, in any order)",
                "eigenvectors": " (one vector per row, in any order, each up to a multiple)",
            }[mode]
        )
    if kind == "expression":
        expr = _expected_or_raise(_expected_expression, spec, values, evaluate=True)
        return str(expr).replace("**", "^")
    if kind == "derivation":
        return ""
    raise ValueError(f"unknown kind {kind!r}")


# ---------------------------------------------------------------------------------------------
# Checking


def auto_checked(kind: str) -> bool:
    """Whether ``check`` scores answers of this kind (a derivation is scored by staff)."""
    return kind in AUTO_CHECKED


def check(kind: str, spec: Mapping[str, Any], values: Mapping[str, float], text: str) -> Checked:
    """The verdict on the answer ``text`` to a question of ``kind`` in the variant ``values``.

    The spec must have passed ``spec_check``. An unreadable answer scores 0 with a problem;
    ``ValueError`` means the spec cannot give an answer for these values (or the kind is not
    checked here).
    """
    if not auto_checked(kind):
        raise ValueError(f"{kind!r} answers are not checked automatically")
    if not isinstance(text, str) or not text.strip():
        return _unreadable(spec, values, AnswerError("no answer was given"))
    if kind == "choice":
        return _check_choice(spec, values, text)
    if kind == "number":
        return _check_number(spec, values, text)
    if kind == "matrix":
        return _check_matrix(spec, values, text)
    return _check_expression(spec, values, text)


def _verdict(
    spec: Mapping[str, Any], values: Mapping[str, float], right: bool | float, feedback: str
) -> Checked:
    fraction = float(right)
    explanation = render(str(spec["explanation"]), values) if "explanation" in spec else ""
    return Checked(
        fraction=fraction,
        correct=fraction == 1.0,
        feedback=" ".join(part for part in (feedback, explanation) if part),
    )


def _unreadable(
    spec: Mapping[str, Any], values: Mapping[str, float], error: AnswerError
) -> Checked:
    explanation = render(str(spec["explanation"]), values) if "explanation" in spec else ""
    return Checked(fraction=0.0, correct=False, feedback=explanation, problem=error.message)


def _expected_or_raise(
    read: Callable[..., Any], spec: Mapping[str, Any], *args: Any, **kw: Any
) -> Any:
    """The expected answer; a spec that cannot give one is the course's error, not the
    student's, so it raises ValueError instead of becoming the student's problem."""
    try:
        return read(spec, *args, **kw)
    except AnswerError as error:
        raise ValueError(f"answer: {error.message}") from None


def _check_choice(spec: Mapping[str, Any], values: Mapping[str, float], text: str) -> Checked:
    count = len(spec["options"])
    chosen: set[int] = set()
    for piece in text.split(","):
        piece = piece.strip()
        if not re.fullmatch(r"[0-9]{1,3}", piece, flags=re.ASCII):
            return _unreadable(spec, values, AnswerError(f"{_shown(piece)} is not an option"))
        if int(piece) >= count:
            return _unreadable(spec, values, AnswerError(f"there is no option {int(piece)}"))
        chosen.add(int(piece))
    if not spec.get("multiple", False) and len(chosen) != 1:
        return _unreadable(spec, values, AnswerError("choose one option"))
    correct = set(spec["correct"])
    if spec.get("scoring", "all_or_nothing") == "per_option":
        right = sum((i in chosen) == (i in correct) for i in range(count))
        fraction = max(0.0, (right - (count - right)) / count)
        feedback = "Right." if right == count else f"{right} of {count} options marked right."
        return _verdict(spec, values, fraction, feedback)
    return _verdict(
        spec, values, chosen == correct, "Right." if chosen == correct else "Not right."
    )


def _expected_number(spec: Mapping[str, Any], values: Mapping[str, float]) -> Fraction | float:
    answer = spec["answer"]
    if isinstance(answer, str):
        return _value(_constant(answer, values))
    try:
        return _exact_number(answer)
    except ValueError:
        raise AnswerError(f"{answer!r} is not a number") from None


def _value(expr: Any) -> Fraction | float:
    """A constant's value: exact when it is rational, else its real floating-point value."""
    exact = _exact(expr)
    return exact if exact is not None else _real(expr)


def _check_number(spec: Mapping[str, Any], values: Mapping[str, float], text: str) -> Checked:
    expected = _expected_or_raise(_expected_number, spec, values)
    try:
        answer = _value(_constant(text, {}))
    except AnswerError as error:
        return _unreadable(spec, values, error)
    if isinstance(answer, Fraction) and isinstance(expected, Fraction):
        right = abs(answer - expected) <= _bound(spec, expected)
    else:
        right = abs(float(answer) - float(expected)) <= _bound(spec, float(expected))
    return _verdict(spec, values, right, "Right." if right else "Not within the tolerance.")


def _bound(spec: Mapping[str, Any], expected: Fraction | float) -> Fraction | float:
    """The largest distance from the expected value that is still right, exact when the
    expected value is."""
    if "relative_tolerance" in spec:
        relative = _exact_number(spec["relative_tolerance"])
        if isinstance(expected, Fraction):
            return relative * abs(expected)
        return float(relative) * abs(expected)
    tolerance = _exact_number(spec.get("tolerance", 0))
    return tolerance if isinstance(expected, Fraction) else float(tolerance)


def _expected_expression(
    spec: Mapping[str, Any], values: Mapping[str, float], *, evaluate: bool = False
) -> Any:
    names = _names(
        spec.get("symbols", []), values, bool(spec.get("imaginary")), bool(spec.get("positive"))
    )
    return _parse(spec["answer"], names, evaluate=evaluate)


def _check_expression(spec: Mapping[str, Any], values: Mapping[str, float], text: str) -> Checked:
    expected = _expected_or_raise(_expected_expression, spec, values)
    try:
        answer = parse_expression(
            text,
            spec.get("symbols", []),
            imaginary=bool(spec.get("imaginary")),
            positive=bool(spec.get("positive")),
        )
    except AnswerError as error:
        return _unreadable(spec, values, error)
    right, problem = _equivalent(answer, expected, bool(spec.get("positive")))
    if problem:
        return _unreadable(spec, values, AnswerError(problem))
    feedback = "Right." if right else "Not equal to the expected expression."
    return _verdict(spec, values, right, feedback)


# ---------------------------------------------------------------------------------------------
# Checking specs


COMMON_KEYS = ("parameters", "explanation", "shown")
KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required keys, optional keys)
    "choice": (("options", "correct"), ("multiple", "scoring")),
    "number": (("answer",), ("tolerance", "relative_tolerance")),
    "matrix": (("answer",), ("tolerance", "mode")),
    "expression": (("answer",), ("symbols", "positive", "imaginary")),
    "derivation": (("rubric",), ()),
}


def spec_check(kind: str, spec: Mapping[str, Any]) -> list[str]:
    """The problems of a question's spec, each a short sentence naming its key."""
    if kind not in KEYS:
        return [f"kind must be one of {', '.join(KINDS)}"]
    if not isinstance(spec, Mapping):
        return ["the question must be a mapping of keys"]
    required, optional = KEYS[kind]
    problems = [f"{key} is required" for key in required if key not in spec]
    known = (*required, *optional, *COMMON_KEYS)
    problems += [f"{key} is not a key of a {kind} question" for key in spec if key not in known]
    for key in ("explanation", "shown"):
        if key in spec and not isinstance(spec[key], str):
            problems.append(f"{key} must be text")
    parameters = spec.get("parameters", {})
    parameter_problems = _parameter_problems(parameters)
    problems += parameter_problems
    if problems:
        return problems
    lowest = _lowest(parameters)
    return {
        "choice": _choice_problems,
        "number": _number_problems,
        "matrix": _matrix_problems,
        "expression": _expression_problems,
        "derivation": _derivation_problems,
    }[kind](spec, lowest)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_name(value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(NAME_RE.match(value))
        and value not in RESERVED
        and not keyword.iskeyword(value)
    )


def _parameter_problems(parameters: Any) -> list[str]:
    if not isinstance(parameters, Mapping):
        return ["parameters must map names to {from, to}, {from, to, step} or {choices}"]
    if len(parameters) > MAX_PARAMETERS:
        return [f"parameters: at most {MAX_PARAMETERS}"]
    problems = []
    for name, rule in parameters.items():
        if not _is_name(name):
            problems.append(f"parameters: {name!r} is not a usable name (letters, digits, _)")
        elif not isinstance(rule, Mapping):
            problems.append(f"parameters: {name} must be {{from, to}} or {{choices}}")
        else:
            problems += [f"parameters: {name}: {problem}" for problem in _rule_problems(rule)]
    return problems


def _rule_problems(rule: Mapping[str, Any]) -> list[str]:
    if "choices" in rule:
        choices = rule["choices"]
        if set(rule) != {"choices"}:
            return ["choices cannot be combined with from, to or step"]
        if not isinstance(choices, list) or not 0 < len(choices) <= MAX_CHOICES:
            return [f"choices must be a list of 1 to {MAX_CHOICES} numbers"]
        if not all(_is_number(choice) for choice in choices):
            return ["choices must be numbers"]
        return []
    if not set(rule) <= {"from", "to", "step"} or not {"from", "to"} <= set(rule):
        return ["give from and to (and step), or choices"]
    if not all(_is_number(rule[key]) for key in rule):
        return ["from, to and step must be numbers"]
    if rule["from"] > rule["to"]:
        return ["from must not be above to"]
    if "step" not in rule and not all(isinstance(rule[key], int) for key in ("from", "to")):
        return ["from and to must be whole numbers, or give a step"]
    if "step" in rule and rule["step"] <= 0:
        return ["step must be above 0"]
    return []


def _answer_problems(read: Callable[[], Any], lowest: Mapping[str, float]) -> list[str]:
    try:
        read()
    except AnswerError as error:
        variant_text = ", ".join(f"{name} = {_number_text(v)}" for name, v in lowest.items())
        return [f"answer: {error.message}" + (f" (for {variant_text})" if variant_text else "")]
    return []


def _choice_problems(spec: Mapping[str, Any], lowest: Mapping[str, float]) -> list[str]:
    options, correct = spec["options"], spec["correct"]
    multiple, scoring = spec.get("multiple", False), spec.get("scoring", "all_or_nothing")
    problems = []
    if (
        not isinstance(options, list)
        or not 2 <= len(options) <= MAX_OPTIONS
        or not all(isinstance(option, str) and option.strip() for option in options)
    ):
        problems.append(f"options must be a list of 2 to {MAX_OPTIONS} texts")
    elif (
        not isinstance(correct, list)
        or not correct
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in correct)
    ):
        problems.append("correct must be a list of option indexes, e.g. [1]")
    elif any(not 0 <= i < len(options) for i in correct) or len(set(correct)) != len(correct):
        problems.append(f"correct must list distinct indexes from 0 to {len(options) - 1}")
    if not isinstance(multiple, bool):
        problems.append("multiple must be true or false")
    elif not multiple and isinstance(correct, list) and len(correct) != 1:
        problems.append("correct must list exactly one index unless multiple is true")
    if scoring not in SCORINGS:
        problems.append(f"scoring must be one of {', '.join(SCORINGS)}")
    elif scoring == "per_option" and multiple is not True:
        problems.append("scoring per_option needs multiple: true")
    return problems


def _tolerance_problems(spec: Mapping[str, Any]) -> list[str]:
    problems = [
        f"{key} must be a number >= 0"
        for key in ("tolerance", "relative_tolerance")
        if key in spec and not (_is_number(spec[key]) and spec[key] >= 0)
    ]
    if "tolerance" in spec and "relative_tolerance" in spec:
        problems.append("tolerance and relative_tolerance cannot both be given")
    return problems


def _number_problems(spec: Mapping[str, Any], lowest: Mapping[str, float]) -> list[str]:
    answer = spec["answer"]
    problems = _tolerance_problems(spec)
    if not (_is_number(answer) or isinstance(answer, str)):
        return [*problems, "answer must be a number or an expression of the parameters"]
    return problems + _answer_problems(lambda: _expected_number(spec, lowest), lowest)


def _matrix_problems(spec: Mapping[str, Any], lowest: Mapping[str, float]) -> list[str]:
    problems = _tolerance_problems(spec)
    mode = spec.get("mode", "exact")
    if mode not in MODES:
        return [*problems, f"mode must be one of {', '.join(MODES)}"]
    rows: list[list[float]] = []

    def read() -> None:
        rows.extend(_expected_matrix(spec, lowest))

    problems += _answer_problems(read, lowest)
    if problems:
        return problems
    if mode == "eigenvector" and _as_vector(rows) is None:
        problems.append("answer must be one vector in mode eigenvector")
    elif mode in ("eigenvector", "eigenvectors") and any(not any(row) for row in rows):
        problems.append("answer: the zero vector is never an eigenvector")
    return problems


def _expression_problems(spec: Mapping[str, Any], lowest: Mapping[str, float]) -> list[str]:
    symbols = spec.get("symbols", [])
    problems = [
        f"{key} must be true or false"
        for key in ("positive", "imaginary")
        if not isinstance(spec.get(key, False), bool)
    ]
    if not isinstance(symbols, list) or not all(_is_name(symbol) for symbol in symbols):
        problems.append(
            "symbols must be a list of names (letters, digits, _; not a function or constant)"
        )
    elif set(symbols) & set(spec.get("parameters", {})):
        problems.append("symbols: a name cannot be both a symbol and a parameter")
    if not isinstance(spec["answer"], str):
        problems.append("answer must be an expression, as text")
    if problems:
        return problems
    return _answer_problems(lambda: _expected_expression(spec, lowest), lowest)


def _derivation_problems(spec: Mapping[str, Any], lowest: Mapping[str, float]) -> list[str]:
    rubric = spec["rubric"]
    if not isinstance(rubric, str) or not SLUG_RE.match(rubric):
        return ["rubric must be the slug of a rubric (letters, digits, '-' and '_')"]
    return []
