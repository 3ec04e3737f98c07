"""Writes the example's data sets; run it again after changing the seed or the true model.

The public files go into the sandbox with the student's code; the held-out labels and the
reference gradient stay in private/, which only the grader reads.
"""

import json
from pathlib import Path

import numpy as np

BUNDLE = Path(__file__).resolve().parent / "bundle"
TRUE_W = np.array([1.5, -2.0, 0.5])
TRUE_B = 3.0
NOISE = 0.1


def main() -> None:
    rng = np.random.default_rng(541)
    x_train = rng.normal(size=(200, TRUE_W.size))
    x_test = rng.normal(size=(100, TRUE_W.size))
    y_train = x_train @ TRUE_W + TRUE_B + NOISE * rng.normal(size=200)
    y_test = x_test @ TRUE_W + TRUE_B + NOISE * rng.normal(size=100)
    header = ",".join(f"x{i}" for i in range(1, TRUE_W.size + 1))
    train = np.column_stack([x_train, y_train])
    np.savetxt(
        BUNDLE / "public/train.csv",
        train,
        delimiter=",",
        fmt="%.6f",
        header=f"{header},y",
        comments="",
    )
    np.savetxt(
        BUNDLE / "public/test.csv", x_test, delimiter=",", fmt="%.6f", header=header, comments=""
    )
    np.savetxt(BUNDLE / "private/test_labels.csv", y_test, fmt="%.6f", header="y", comments="")

    # The gradient is checked at a point away from the optimum, on the data as written.
    train = np.loadtxt(BUNDLE / "public/train.csv", delimiter=",", skiprows=1)
    x, y = train[:, :-1], train[:, -1]
    case = {"w": [0.5, 0.5, 0.5], "b": -1.0}
    residual = x @ np.array(case["w"]) + case["b"] - y
    reference = {"grad_w": (2 * x.T @ residual / len(y)).tolist(), "grad_b": 2 * residual.mean()}
    (BUNDLE / "public/gradient_case.json").write_text(json.dumps(case) + "\n")
    (BUNDLE / "private/gradient_reference.json").write_text(json.dumps(reference, indent=1) + "\n")


if __name__ == "__main__":
    main()
