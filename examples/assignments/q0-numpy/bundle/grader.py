"""Runs after the driver, in a sandbox of its own: scores what driver.py wrote to out/.

Every expected value is computed here, in float64, from the cases in public/ (the file the
driver had), by another route than the reference solution's where there is one: distances from
the differences themselves, softmax through log-sum-exp, ridge regression by least squares on
the stacked system [X; sqrt(l2) I]. The conditioning test has no expected weights at all: it
measures how well the hand-in's weights satisfy the normal equations. Outputs are read only
through ``outputs``, whose loaders cannot run code.

Each test is all or nothing: every case of it must pass.
"""

from pathlib import Path

import numpy as np

from grading.outputs import BadOutput

# The inputs the driver ran each test on.
CASES = dict(np.load(Path(__file__).resolve().parent / "public" / "cases.npz", allow_pickle=False))
# float64 agrees with these references to about 1e-13; float32 work to about 1e-6.
RTOL, ATOL = 1e-4, 1e-6
# pairwise_distances_rounding: the distance of two equal rows computed from |a|^2 + |b|^2 - 2 a.b
# is off by about sqrt(eps) |a|, 1.5e-8 |a| in float64 but 2.4e-4 |a| in float32; the allowance
# is this fraction of the largest row norm (about 5, for different rows at least 1195 apart).
ROUNDING_ATOL = 1e-3
# linear_regression_conditioning: |(X^T X + l2 I) w - X^T y| / (|X^T X + l2 I| |w|). A backward
# stable solver (np.linalg.solve, lstsq) leaves about 1e-16; the inverse, 4e-13 to 4e-9 here.
MAX_RESIDUAL = 1e-13
# driver.TESTS: the function of quiz.py each test calls.
FUNCTIONS = {
    "standardize": "standardize",
    "standardize_constant": "standardize",
    "pairwise_distances": "pairwise_distances",
    "pairwise_distances_rounding": "pairwise_distances",
    "one_hot": "one_hot",
    "softmax": "softmax",
    "softmax_stability": "softmax",
    "linear_regression": "linear_regression",
    "linear_regression_conditioning": "linear_regression",
    "accuracy": "accuracy",
}


class Failed(Exception):
    """A test the submission did not pass; the message is what the student reads."""


def grade(outputs, private, run):
    checks = {
        "standardize": compare(expected_standardize),
        "standardize_constant": compare(expected_standardize, constant_columns),
        "pairwise_distances": compare(expected_distances),
        "pairwise_distances_rounding": compare(
            expected_distances, negative_distances, atol=rounding_atol
        ),
        "one_hot": compare(expected_one_hot, wrong_rows, rtol=0.0, atol=lambda inputs: 0.0),
        "softmax": compare(expected_softmax),
        "softmax_stability": compare(expected_softmax),
        "linear_regression": compare(expected_ridge),
        "linear_regression_conditioning": conditioning,
        "accuracy": compare(expected_accuracy),
    }
    results = []
    for test, check in checks.items():
        try:
            answer = outputs.json(f"{test}.json")
            if not isinstance(answer, dict) or answer.get("ok") is not True:
                error = answer.get("error") if isinstance(answer, dict) else answer
                raise Failed(f"This test could not run your code to the end:\n{error}")
            with np.errstate(all="ignore"):
                message = check(outputs, test)
        except (BadOutput, Failed) as failure:
            results.append({"name": test, "score": 0, "status": "failed", "output": str(failure)})
        else:
            results.append({"name": test, "score": run["points"][test], "output": message})
    return results


def cases_of(test):
    """The names of a test's cases, in the order make_data.py wrote them."""
    return list(dict.fromkeys(key.split(".")[1] for key in CASES if key.split(".")[0] == test))


def inputs_of(test, case):
    prefix = f"{test}.{case}."
    return {
        key.removeprefix(prefix): value for key, value in CASES.items() if key.startswith(prefix)
    }


def call(test, inputs):
    """The call as the student would write it: ``one_hot(labels, k) with labels of shape (6,),
    k=7``."""
    shown = [
        f"{name}={value.item()!r}" if value.ndim == 0 else f"{name} of shape {value.shape}"
        for name, value in inputs.items()
    ]
    return f"{FUNCTIONS[test]}({', '.join(inputs)}) with {', '.join(shown)}"


def compare(reference, extra_problem=None, *, rtol=RTOL, atol=lambda inputs: ATOL):
    """A check of every case of a test against ``reference(**inputs)``; ``extra_problem`` may
    say more precisely what is wrong before the values are compared."""

    def check(outputs, test):
        problems = []
        for case in cases_of(test):
            inputs = inputs_of(test, case)
            got = outputs.npy(f"{test}.{case}.npy")
            expected = np.asarray(reference(**inputs), dtype=np.float64)
            problem = (extra_problem and extra_problem(got, **inputs)) or mismatch(
                got, expected, rtol, atol(inputs)
            )
            if problem:
                problems.append(f"{call(test, inputs)}: {problem}")
        if problems:
            raise Failed("\n".join(problems))
        return f"{FUNCTIONS[test]} is right on all {len(cases_of(test))} cases of this test."

    return check


def mismatch(got, expected, rtol, atol):
    """What is wrong with the hand-in's array ``got``, or "" when it matches ``expected``."""
    if got.dtype.kind not in "biuf":
        return f"not an array of real numbers ({got.dtype})."
    if expected.shape == () and got.size == 1:
        got = got.reshape(())
    if got.shape != expected.shape:
        return f"returned shape {got.shape}, expected {expected.shape}."
    if not np.all(np.isfinite(got)):
        return "contains nan or inf."
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        if expected.shape == ():
            return f"returned {float(got):.6g}, expected {float(expected):.6g}."
        return f"differs from the expected values by up to {np.max(np.abs(got - expected)):.3g}."
    return ""


# --- the references ------------------------------------------------------------------------------


def expected_standardize(X):
    mean = X.mean(axis=0)
    std = np.sqrt(((X - mean) ** 2).mean(axis=0))
    constant = X.max(axis=0) == X.min(axis=0)
    return np.where(constant, 0.0, (X - mean) / np.where(constant, 1.0, std))


def expected_distances(A, B):
    return np.sqrt(((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2))


def expected_one_hot(labels, k):
    return (labels[:, None] == np.arange(k)).astype(np.float64)


def expected_softmax(Z):
    top = Z.max(axis=1, keepdims=True)
    log_normaliser = top + np.log(np.exp(Z - top).sum(axis=1, keepdims=True))
    return np.exp(Z - log_normaliser)


def expected_ridge(X, y, l2):
    """Least squares on [X; sqrt(l2) I] w = [y; 0], whose solution is ridge regression's."""
    d = X.shape[1]
    stacked = np.vstack([X, np.sqrt(l2) * np.eye(d)])
    return np.linalg.lstsq(stacked, np.concatenate([y, np.zeros(d)]), rcond=None)[0]


def expected_accuracy(scores, labels):
    return np.mean(scores.argmax(axis=1) == labels)


# --- what the messages say beyond a difference ---------------------------------------------------


def constant_columns(got, X):
    """The constant columns that did not come back as zeros, if the shape is right."""
    if got.shape != X.shape or got.dtype.kind not in "biuf":
        return ""
    wrong = [
        f"column {j}, all {float(X[0, j])!r}, became {distinct_values(got[:, j])}"
        for j in np.flatnonzero(X.max(axis=0) == X.min(axis=0))
        if not np.all(got[:, j] == 0)
    ]
    if not wrong:
        return ""
    return f"a column whose values are all equal must become zeros; {'; '.join(wrong)}."


def wrong_rows(got, labels, k):
    """The first row of a one-hot encoding that is wrong, if the shape is right."""
    expected = expected_one_hot(labels, k)
    if got.shape != expected.shape or got.dtype.kind not in "biuf":
        return ""
    wrong = np.flatnonzero(np.any(got != expected, axis=1))
    if wrong.size == 0:
        return ""
    i = wrong[0]
    return f"row {i} (label {labels[i]}) is {got[i].tolist()}, expected {expected[i].tolist()}."


def distinct_values(column):
    values = [f"{value:.3g}" for value in np.unique(column)]
    return f"[{', '.join(values[:3])}{', ...' if len(values) > 3 else ''}]"


def negative_distances(got, A, B):
    if got.dtype.kind not in "biuf" or not np.all(np.isfinite(got)):
        return ""
    if np.any(got < 0):
        return f"returned negative distances, down to {got.min():.3g}."
    return ""


def rounding_atol(inputs):
    largest = max(
        np.linalg.norm(inputs["A"], axis=1).max(), np.linalg.norm(inputs["B"], axis=1).max()
    )
    return ROUNDING_ATOL * largest


def conditioning(outputs, test):
    """The weights must satisfy the normal equations to a solver's precision: on an X of
    condition number 1e7 the weights themselves are only known to about 1e-2, but a backward
    stable solver leaves a residual of about 1e-16."""
    problems = []
    residuals = []
    for case in cases_of(test):
        inputs = inputs_of(test, case)
        X, y, l2 = inputs["X"], inputs["y"], float(inputs["l2"])
        got = outputs.npy(f"{test}.{case}.npy")
        if got.dtype.kind not in "biuf" or got.shape != (X.shape[1],):
            problems.append(
                f"{call(test, inputs)}: returned shape {got.shape}, expected ({X.shape[1]},)."
            )
            continue
        gram = X.T @ X + l2 * np.eye(X.shape[1])
        w = got.astype(np.float64)
        residual = np.linalg.norm(gram @ w - X.T @ y) / (
            np.linalg.norm(gram, 2) * np.linalg.norm(w)
        )
        residuals.append(residual)
        if not residual <= MAX_RESIDUAL:  # a nan fails too
            problems.append(
                f"{call(test, inputs)}: the weights leave a relative residual of {residual:.2g} "
                f"in (X^T X + l2 I) w = X^T y (at most {MAX_RESIDUAL:g} needed; a solver such as "
                f"np.linalg.solve reaches about 1e-16; going through the inverse of X^T X leaves "
                f"far more)."
            )
    if problems:
        raise Failed("\n".join(problems))
    return (
        f"On X of condition number 1e7 the weights satisfy the normal equations to a relative "
        f"residual of at most {max(residuals):.2g}."
    )
