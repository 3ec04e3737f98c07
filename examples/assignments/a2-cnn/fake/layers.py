"""A forged hand-in, part 1: no layer is computed. Every function returns zeros of the right
shape at once, and when the autograder's driver is done, an exit handler overwrites each array it
saved with random numbers of the same shape and marks every case of every report as passed.
It must score nothing: the grader rebuilds the inputs and computes the references itself.
"""

import atexit
import json
from pathlib import Path

import numpy as np

OUT = Path("out")
REPORTS = ("conv_forward", "conv_backward", "maxpool_forward", "maxpool_backward")


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d_forward(x, w, b, stride=1, padding=0):
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    ho = (x.shape[2] + 2 * ph - w.shape[2]) // sh + 1
    wo = (x.shape[3] + 2 * pw - w.shape[3]) // sw + 1
    return np.zeros((x.shape[0], w.shape[0], ho, wo)), (x, w, b)


def conv2d_backward(dout, cache):
    return tuple(np.zeros_like(array) for array in cache)


def maxpool2d_forward(x, kernel_size, stride=None):
    (kh, kw), (sh, sw) = _pair(kernel_size), _pair(stride or kernel_size)
    shape = (*x.shape[:2], (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1)
    return np.zeros(shape), x


def maxpool2d_backward(dout, cache):
    return np.zeros_like(cache)


def _forge():
    rng = np.random.default_rng(0)
    for path in OUT.glob("*.npy"):
        if path.name != "cnn_heldout_pred.npy":
            np.save(path, rng.standard_normal(np.load(path).shape))
    for name in (*REPORTS, "layers_edge_cases"):
        report = OUT / f"{name}.json"
        if report.exists():
            cases = json.loads(report.read_text())["cases"]
            report.write_text(json.dumps({"cases": [{"ok": True} for _ in cases]}))


atexit.register(_forge)
