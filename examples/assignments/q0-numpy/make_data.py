"""Writes the bundle's cases; run it again after changing a case or the seed.

    .venv/bin/python examples/assignments/q0-numpy/make_data.py

public/cases.npz holds the inputs of every test (the driver reads it in the sandbox; students
never see it; the grader reads it too).
No expected answer is stored: grader.py computes each one from the inputs. The file is written
byte for byte the same on every run (no timestamps in the archive), so a diff shows a change.

Keys are ``<test>.<case>.<argument>``: ``standardize.scales.X`` is the X of the case "scales" of
the test "standardize". Scalars (``k``, ``l2``) are 0-d arrays.
"""

import zipfile
import zlib
from pathlib import Path

import numpy as np

BUNDLE = Path(__file__).resolve().parent / "bundle"
SEED = 20241014  # the day the quiz opens
# softmax_stability's logits are multiples of 1/64: exact in float32 up to 2**17, so a float32
# hand-in is judged on its softmax, not on how its input was rounded.
FLOAT32_STEP = 1 / 64
# linear_regression_conditioning: X's condition number (X^T X's is its square, 1e14).
CONDITION = 1e7


def cases() -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for test, build in BUILDERS.items():
        # A generator per test, so that changing one test's cases leaves the others' as they are.
        rng = np.random.default_rng([SEED, zlib.crc32(test.encode())])
        for case, inputs in build(rng).items():
            for argument, value in inputs.items():
                arrays[f"{test}.{case}.{argument}"] = np.asarray(value)
    return arrays


def standardize(rng: np.random.Generator) -> dict[str, dict]:
    # Columns of very different scales and offsets.
    scales, offsets = np.array([1.0, 50.0, 0.01, 3.0]), np.array([0.0, 200.0, -0.05, 2.0])
    return {
        "scales": {"X": offsets + scales * rng.normal(size=(11, 4))},
        "odd": {"X": rng.normal(size=(7, 3))},
        "pair": {"X": rng.normal(size=(2, 5))},
    }


def standardize_constant(rng: np.random.Generator) -> dict[str, dict]:
    mixed = rng.normal(size=(7, 4))
    # The mean of seven 0.1s is 0.09999999999999999 and their std 1.4e-17, not 0; a column of
    # zeros has std exactly 0.
    mixed[:, 1] = 0.1
    mixed[:, 3] = 0.0
    halves = 5 * rng.normal(size=(5, 3))
    halves[:, 0] = -2.5
    return {
        "mixed": {"X": mixed},
        "row": {"X": rng.normal(size=(1, 5))},
        "halves": {"X": halves},
    }


def pairwise_distances(rng: np.random.Generator) -> dict[str, dict]:
    normal = rng.normal
    return {
        "batch": {"A": normal(size=(7, 3)), "B": normal(size=(5, 3))},
        "one": {"A": normal(size=(1, 3)), "B": normal(size=(5, 3))},
        "single_feature": {"A": normal(size=(6, 1)), "B": normal(size=(4, 1))},
        "one_target": {"A": normal(size=(6, 2)), "B": normal(size=(1, 2))},
    }


def pairwise_distances_rounding(rng: np.random.Generator) -> dict[str, dict]:
    """Rows of norm about 4000, many of them in both A and B: |a|^2 + |b|^2 - 2 a.b of two equal
    rows rounds to a few units of 1e-9 either side of 0."""
    A = 1000 + 300 * rng.normal(size=(12, 16))
    B = np.concatenate([A[rng.permutation(12)[:8]], 1000 + 300 * rng.normal(size=(3, 16))])
    return {"shared": {"A": A, "B": rng.permutation(B)}, "itself": {"A": A, "B": A}}


def one_hot(rng: np.random.Generator) -> dict[str, dict]:
    return {
        "all": {"labels": rng.permutation(np.arange(9) % 4), "k": 4},
        # Classes 5 and 6 appear nowhere, yet there are 7 columns.
        "missing": {"labels": np.array([3, 0, 4, 4, 1, 0]), "k": 7},
        "one": {"labels": np.array([2]), "k": 3},
        "single_class": {"labels": np.zeros(5, dtype=np.int32), "k": 1},
    }


def softmax(rng: np.random.Generator) -> dict[str, dict]:
    return {
        "batch": {"Z": 3 * rng.normal(size=(6, 5))},
        "one": {"Z": 3 * rng.normal(size=(1, 4))},
        "single_class": {"Z": 3 * rng.normal(size=(3, 1))},
    }


def softmax_stability(rng: np.random.Generator) -> dict[str, dict]:
    """Logits far beyond exp's range (e**710 overflows): a row near +1000, one near -1000 (2000
    below the largest logit of the batch), one with a gap of 2000 inside it, two spread widely."""
    huge = np.stack(
        [
            1000 + 3 * rng.normal(size=6),
            -1000 + 3 * rng.normal(size=6),
            [1000.0, -1000.0, 0.0, 5.0, -5.0, 999.0],
            400 * rng.normal(size=6),
            -1500 + 400 * rng.normal(size=6),
        ]
    )
    one = np.array([[-1000.0, -1001.0, -1002.5]])
    return {
        "huge": {"Z": np.round(huge / FLOAT32_STEP) * FLOAT32_STEP},
        "one": {"Z": one},
    }


def linear_regression(rng: np.random.Generator) -> dict[str, dict]:
    tall = rng.normal(size=(23, 5))
    y = tall @ rng.normal(size=5) + 0.1 * rng.normal(size=23)
    wide = rng.normal(size=(3, 8))
    one = rng.normal(size=(1, 4))
    return {
        "least_squares": {"X": tall, "y": y, "l2": 0.0},
        "ridge": {"X": tall, "y": y, "l2": 2.5},
        "wide": {"X": wide, "y": rng.normal(size=3), "l2": 0.5},
        "one": {"X": one, "y": rng.normal(size=1), "l2": 1.0},
    }


def linear_regression_conditioning(rng: np.random.Generator) -> dict[str, dict]:
    """Three X (40 x 8) of full rank with singular values from 10 down to 10 / CONDITION."""
    systems = {}
    for i in range(3):
        U, _ = np.linalg.qr(rng.normal(size=(40, 8)))
        V, _ = np.linalg.qr(rng.normal(size=(8, 8)))
        singular = 10 * np.logspace(0, -np.log10(CONDITION), 8)
        systems[f"ill{i}"] = {"X": (U * singular) @ V.T, "y": rng.normal(size=40), "l2": 0.0}
    return systems


def accuracy(rng: np.random.Generator) -> dict[str, dict]:
    # Rows with a tie for the largest score: the first of them is the prediction.
    ties = np.array(
        [[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 1.0, 3.0], [0.5, 0.5, 0.5], [1.0, 0.0, 2.0],
         [4.0, 4.0, 1.0]]
    )  # fmt: skip
    return {
        "batch": {"scores": rng.normal(size=(10, 4)), "labels": rng.integers(0, 4, size=10)},
        "ties": {"scores": ties, "labels": np.array([1, 1, 0, 2, 2, 0])},
        "one": {"scores": rng.normal(size=(1, 5)), "labels": np.array([3])},
    }


BUILDERS = {
    "standardize": standardize,
    "standardize_constant": standardize_constant,
    "pairwise_distances": pairwise_distances,
    "pairwise_distances_rounding": pairwise_distances_rounding,
    "one_hot": one_hot,
    "softmax": softmax,
    "softmax_stability": softmax_stability,
    "linear_regression": linear_regression,
    "linear_regression_conditioning": linear_regression_conditioning,
    "accuracy": accuracy,
}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez's format, with a fixed date on every entry so that the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(entry, "w", force_zip64=True) as file:
                np.lib.format.write_array(file, value, allow_pickle=False)


if __name__ == "__main__":
    arrays = cases()
    write_npz(BUNDLE / "public" / "cases.npz", arrays)
