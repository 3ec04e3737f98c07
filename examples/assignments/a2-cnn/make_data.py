"""Writes the data of the bundle; run it again after a change here or in public/layer_cases.py.

The 1797 digits of scikit-learn are shuffled with a fixed seed: 1200 go to training (images and
labels, public), the other 597 are held out (images public, labels in private/, which only the
grader reads). Images are float32 in [0, 1] (the 0..16 grey levels divided by 16), shaped
(N, 1, 8, 8).

bundle/public/layer_cases.py holds the layer cases, which the driver and the grader both import.
Every layer case's answers, computed with PyTorch in
float64, go to private/layer_references.npz, so that grading needs no PyTorch (importing it and
its autograd took two thirds of the grader's time).
"""

import sys
import zipfile
from pathlib import Path

import numpy as np

BUNDLE = Path(__file__).resolve().parent / "bundle"
SEED = 541
TRAIN_SIZE = 1200

sys.path.insert(0, str(BUNDLE / "public"))
import layer_cases  # noqa: E402  (bundle/public/layer_cases.py)


def layer_references() -> dict[str, np.ndarray]:
    """The answers to every layer case, by "<seed>_<array>": out, dx, dw and db of a convolution
    (autograd's gradients for the case's dout), out and dx of a max-pooling."""
    import torch
    import torch.nn.functional as F

    references: dict[str, np.ndarray] = {}
    for case in layer_cases.CONV_CASES + layer_cases.EDGE_CONV_CASES:
        x, w, b, dout = layer_cases.conv_inputs(case)
        x, w, b = (torch.tensor(value, requires_grad=True) for value in (x, w, b))
        stride, padding = layer_cases.conv_stride_padding(case)
        out = F.conv2d(x, w, b, stride=stride, padding=padding)
        dx, dw, db = torch.autograd.grad(out, (x, w, b), torch.from_numpy(dout))
        arrays = {"out": out, "dx": dx, "dw": dw, "db": db}
        references |= {f"{case['seed']}_{key}": a.detach().numpy() for key, a in arrays.items()}
    for case in layer_cases.POOL_CASES + layer_cases.EDGE_POOL_CASES:
        x, dout = layer_cases.pool_inputs(case)
        x = torch.tensor(x, requires_grad=True)
        out = F.max_pool2d(x, *layer_cases.pool_kernel_stride(case))
        (dx,) = torch.autograd.grad(out, (x,), torch.from_numpy(dout))
        arrays = {"out": out, "dx": dx}
        references |= {f"{case['seed']}_{key}": a.detach().numpy() for key, a in arrays.items()}
    return references


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """As np.savez, with a fixed date on every member: the same arrays make the same file."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in sorted(arrays.items()):
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(member, "w") as file:
                np.lib.format.write_array(file, np.ascontiguousarray(array), allow_pickle=False)


def main() -> None:
    from sklearn.datasets import load_digits

    save_npz(BUNDLE / "private/layer_references.npz", layer_references())
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
