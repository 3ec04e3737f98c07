"""The programming quiz's mistakes: the reference solution with one realistic mistake each, and the
tests it must lose (every other test keeps full marks). The tests write each hand-in from
solution/ and its edits, so a mistake stays right when the solution changes. To look at them or
grade them:

    .venv/bin/python examples/assignments/q0-numpy/make_flawed.py /tmp/q0-flawed [NAME ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mistakes import Edit, Mistake, main

QUIZ = "quiz.py"
CONSTANT_GUARD = "    constant = np.ptp(X, axis=0) == 0\n"
STANDARDIZED = (
    "    return np.where(constant, 0.0, (X - X.mean(axis=0)) / np.where(constant, 1.0, std))\n"
)

MISTAKES = [
    Mistake(
        name="standardize-sample-std",
        edits=(Edit(QUIZ, "    std = X.std(axis=0)\n", "    std = X.std(axis=0, ddof=1)\n"),),
        loses=("standardize", "standardize_constant"),
        description="standardize divides by the sample standard deviation (ddof=1, 1/(n - 1)) "
        "instead of np.std's default (1/n): every standardized value is sqrt((n - 1) / n) of "
        "the right one, 0.95 for 11 rows, 0.71 for 2. Both standardize tests fail, the second "
        "on the ordinary columns beside its constant ones; constant columns still become zeros.",
    ),
    Mistake(
        name="standardize-divides-by-zero",
        edits=(
            Edit(QUIZ, CONSTANT_GUARD, ""),
            Edit(QUIZ, STANDARDIZED, "    return (X - X.mean(axis=0)) / std\n"),
        ),
        loses=("standardize_constant",),
        description="standardize divides by the standard deviation with no guard: a column of "
        "zeros (std 0) becomes 0 / 0 = nan, and so does every column of a single row, while a "
        "column of seven 0.1s becomes 1.4e-17 / 1.4e-17 = 1. Only standardize_constant fails.",
    ),
    Mistake(
        name="standardize-std-equals-zero",
        edits=(Edit(QUIZ, CONSTANT_GUARD, "    constant = std == 0\n"),),
        loses=("standardize_constant",),
        description="standardize guards against division by zero by testing the standard "
        "deviation for 0. A column of zeros passes, but the mean of seven 0.1s is "
        "0.09999999999999999 and their standard deviation 1.4e-17, not 0: the column becomes "
        "1.4e-17 / 1.4e-17 = 1 instead of zeros. Only standardize_constant fails.",
    ),
    Mistake(
        name="distances-not-clipped",
        edits=(
            Edit(
                QUIZ,
                "    return np.sqrt(np.maximum(squared, 0.0))\n",
                "    return np.sqrt(squared)\n",
            ),
        ),
        loses=("pairwise_distances_rounding",),
        description="pairwise_distances takes the square root of |a|^2 + |b|^2 - 2 a.b as it "
        "is: for two equal rows of norm about 4000 rounding leaves it up to 7.5e-9 either side "
        "of 0 (below 0 for 7 of the test's 20 equal pairs), and the square root of a negative "
        "number is nan. The ordinary distances are right, so only pairwise_distances_rounding "
        "fails.",
    ),
    Mistake(
        name="one-hot-off-by-one",
        edits=(
            Edit(
                QUIZ,
                "    encoded[np.arange(labels.shape[0]), labels] = 1.0\n",
                "    encoded[np.arange(labels.shape[0]), labels - 1] = 1.0\n",
            ),
        ),
        loses=("one_hot",),
        description="one_hot counts the classes from 1: the 1 lands one column to the left, "
        "and label 0 indexes column -1, the last one, so nothing raises. one_hot fails.",
    ),
    Mistake(
        name="one-hot-width-from-labels",
        edits=(
            Edit(
                QUIZ,
                "    encoded = np.zeros((labels.shape[0], k))\n",
                "    encoded = np.zeros((labels.shape[0], labels.max() + 1))\n",
            ),
        ),
        loses=("one_hot",),
        description="one_hot makes labels.max() + 1 columns instead of k: right whenever the "
        "largest class appears, 5 columns instead of 7 when classes 5 and 6 do not. one_hot "
        "fails.",
    ),
    Mistake(
        name="softmax-unstable",
        edits=(
            Edit(QUIZ, "    shifted = Z - Z.max(axis=1, keepdims=True)\n", "    shifted = Z\n"),
        ),
        loses=("softmax_stability",),
        description="softmax exponentiates the logits as they are: exp(1000) is inf and "
        "inf / inf nan, exp(-1000) is 0 and 0 / 0 nan. Exact on ordinary logits, so only "
        "softmax_stability fails.",
    ),
    Mistake(
        name="softmax-global-max",
        edits=(
            Edit(
                QUIZ,
                "    shifted = Z - Z.max(axis=1, keepdims=True)\n",
                "    shifted = Z - Z.max()\n",
            ),
        ),
        loses=("softmax_stability",),
        description="softmax subtracts the largest logit of the whole batch instead of each "
        "row's: the row of that logit is safe, but a row 2000 below it underflows to all "
        "zeros and 0 / 0 is nan. Ordinary logits are close together, so only "
        "softmax_stability fails.",
    ),
    Mistake(
        name="softmax-over-columns",
        edits=(
            Edit(
                QUIZ,
                "    shifted = Z - Z.max(axis=1, keepdims=True)\n",
                "    shifted = Z - Z.max(axis=0, keepdims=True)\n",
            ),
            Edit(
                QUIZ,
                "    return exp / exp.sum(axis=1, keepdims=True)\n",
                "    return exp / exp.sum(axis=0, keepdims=True)\n",
            ),
        ),
        loses=("softmax", "softmax_stability"),
        description="softmax normalises each column instead of each row (axis=0): the shapes "
        "agree, nothing raises, and a batch of one comes back as all ones. Both softmax tests "
        "fail.",
    ),
    Mistake(
        name="ridge-wrong-sign",
        edits=(
            Edit(
                QUIZ,
                "    gram = X.T @ X + l2 * np.eye(X.shape[1])\n",
                "    gram = X.T @ X - l2 * np.eye(X.shape[1])\n",
            ),
        ),
        loses=("linear_regression",),
        description="linear_regression subtracts l2 I from X^T X instead of adding it, "
        "rewarding large weights instead of penalising them. Right for l2 = 0, wrong for every "
        "l2 > 0: linear_regression fails; the conditioning test, at l2 = 0, passes.",
    ),
    Mistake(
        name="ridge-inverts",
        edits=(
            Edit(
                QUIZ,
                "    return np.linalg.solve(gram, X.T @ y)\n",
                "    return np.linalg.inv(gram) @ X.T @ y\n",
            ),
        ),
        loses=("linear_regression_conditioning",),
        description="linear_regression multiplies by the inverse of X^T X + l2 I instead of "
        "solving the system. On well-conditioned X the weights are as good, but on X of "
        "condition number 1e7 (X^T X: 1e14) they leave a residual in the normal equations of "
        "1e-12 to 1e-9, where a solver leaves 1e-16. linear_regression_conditioning fails.",
    ),
    Mistake(
        name="accuracy-counts-ties",
        edits=(
            Edit(
                QUIZ,
                "    return float(np.mean(np.argmax(scores, axis=1) == labels))\n",
                "    rows = np.arange(len(labels))\n"
                "    return float(np.mean(scores[rows, labels] == scores.max(axis=1)))\n",
            ),
        ),
        loses=("accuracy",),
        description="accuracy counts a row as right when the label's score equals the row's "
        "largest, so a label tied with an earlier class counts too: 6/6 instead of 4/6 on the "
        "rows with ties. Right without ties; accuracy fails.",
    ),
]

if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
