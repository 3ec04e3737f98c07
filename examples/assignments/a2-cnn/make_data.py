"""Writes the CNN data of the bundle from scikit-learn's digits; run it again after a change here.

The 1797 digits are shuffled with a fixed seed: 1200 go to training (images and labels, public),
the other 597 are held out (images public, labels in private/, which only the grader reads).
Images are float32 in [0, 1] (the 0..16 grey levels divided by 16), shaped (N, 1, 8, 8).
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

BUNDLE = Path(__file__).resolve().parent / "bundle"
SEED = 541
TRAIN_SIZE = 1200


def main() -> None:
    digits = load_digits()
    order = np.random.default_rng(SEED).permutation(len(digits.target))
    images = (digits.images[order] / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target[order].astype(np.int64)
    np.save(BUNDLE / "public/train_images.npy", images[:TRAIN_SIZE])
    np.save(BUNDLE / "public/train_labels.npy", labels[:TRAIN_SIZE])
    np.save(BUNDLE / "public/heldout_images.npy", images[TRAIN_SIZE:])
    np.save(BUNDLE / "private/heldout_labels.npy", labels[TRAIN_SIZE:])


if __name__ == "__main__":
    main()
