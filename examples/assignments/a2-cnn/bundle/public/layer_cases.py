"""The cases the layers of layers.py are checked on: shapes, strides, paddings and seeds.

grader.py (outside the sandbox) imports this file from the bundle; driver.py (inside) imports
public/layer_cases.py, an exact copy that make_data.py writes, since the sandbox sees only public/.
Both build each case's inputs with ``conv_inputs`` and ``pool_inputs``, so the grader knows the
inputs the student's code was given without trusting anything the run wrote. Inputs are float64
and drawn from a normal distribution, so max-pooling windows have no ties.

A case without "stride" (or "padding") is called without that argument, to check the defaults
the student README gives: stride 1 and padding 0 for conv2d_forward, stride None (the kernel
size) for maxpool2d_forward.
"""

import numpy as np

# x: (N, C, H, W); w: (F, C, KH, KW); stride and padding as ints or (along H, along W), or left
# out: the defaults.
CONV_CASES = [
    {"seed": 101, "x": (2, 3, 7, 7), "w": (4, 3, 3, 3), "stride": 1, "padding": 1},
    {"seed": 102, "x": (2, 2, 9, 8), "w": (3, 2, 3, 2), "stride": (2, 1), "padding": (1, 2)},
    {"seed": 103, "x": (3, 4, 10, 11), "w": (5, 4, 3, 3), "stride": 2, "padding": 0},
    {"seed": 104, "x": (2, 3, 6, 6), "w": (2, 3, 1, 1)},
    {"seed": 105, "x": (1, 2, 8, 6), "w": (3, 2, 5, 3), "stride": (1, 2), "padding": (2, 1)},
]
# kernel_size and stride as ints or (along H, along W); stride None (given, or left out: the
# default) means the kernel size.
POOL_CASES = [
    {"seed": 201, "x": (2, 3, 8, 8), "kernel_size": 2},
    {"seed": 202, "x": (2, 2, 7, 9), "kernel_size": 3, "stride": 2},
    {"seed": 203, "x": (1, 4, 6, 6), "kernel_size": 2, "stride": 1},
    {"seed": 204, "x": (3, 1, 6, 10), "kernel_size": (2, 3), "stride": (2, 3)},
]
# Corner cases: a kernel as large as the input, a stride longer than the kernel (rows that no
# window reads), padding wider than half the kernel, windows that do not tile the input, global
# pooling, overlapping non-square windows.
EDGE_CONV_CASES = [
    {"seed": 301, "x": (1, 1, 5, 5), "w": (2, 1, 5, 5), "stride": 1, "padding": 0},
    {"seed": 302, "x": (2, 2, 9, 7), "w": (3, 2, 2, 3), "stride": (3, 2), "padding": (0, 1)},
    {"seed": 303, "x": (1, 3, 4, 4), "w": (2, 3, 3, 3), "stride": 1, "padding": 2},
]
EDGE_POOL_CASES = [
    {"seed": 401, "x": (2, 2, 7, 5), "kernel_size": 2, "stride": 2},
    {"seed": 402, "x": (1, 3, 6, 7), "kernel_size": (3, 2), "stride": (1, 2)},
    {"seed": 403, "x": (2, 3, 4, 4), "kernel_size": 4, "stride": None},
]


def pair(value):
    """An int or a pair as the pair (along H, along W)."""
    if isinstance(value, int):
        return (value, value)
    first, second = value
    return (int(first), int(second))


def conv_arguments(case):
    """The keyword arguments conv2d_forward is called with: those the case gives."""
    return {key: case[key] for key in ("stride", "padding") if key in case}


def pool_arguments(case):
    """The keyword arguments maxpool2d_forward is called with after kernel_size."""
    return {"stride": case["stride"]} if "stride" in case else {}


def conv_stride_padding(case):
    """The case's stride and padding as pairs, the defaults (1 and 0) where it gives none."""
    return pair(case.get("stride", 1)), pair(case.get("padding", 0))


def pool_kernel_stride(case):
    """The case's kernel and stride as pairs; a stride None or left out is the kernel's."""
    kernel = pair(case["kernel_size"])
    stride = case.get("stride")
    return kernel, (kernel if stride is None else pair(stride))


def conv_output_shape(case):
    (n, _, h, w), (f, _, kh, kw) = case["x"], case["w"]
    (sh, sw), (ph, pw) = conv_stride_padding(case)
    return (n, f, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)


def pool_output_shape(case):
    n, c, h, w = case["x"]
    (kh, kw), (sh, sw) = pool_kernel_stride(case)
    return (n, c, (h - kh) // sh + 1, (w - kw) // sw + 1)


def conv_inputs(case):
    """(x, w, b, dout): the layer's inputs and the upstream gradient of its output."""
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x"])
    w = rng.standard_normal(case["w"])
    b = rng.standard_normal(case["w"][0])
    dout = rng.standard_normal(conv_output_shape(case))
    return x, w, b, dout


def pool_inputs(case):
    """(x, dout): the layer's input and the upstream gradient of its output."""
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x"])
    dout = rng.standard_normal(pool_output_shape(case))
    return x, dout


def describe(case):
    """The case as a student reads it in a test's output."""
    if "w" in case:
        shapes = f"x {tuple(case['x'])}, w {tuple(case['w'])}"
        if not conv_arguments(case):
            return f"{shapes}, stride and padding left to their defaults"
        return f"{shapes}, stride {case['stride']}, padding {case['padding']}"
    shapes = f"x {tuple(case['x'])}, kernel_size {case['kernel_size']}"
    if "stride" not in case:
        return f"{shapes}, stride left to its default"
    stride = case["stride"] if case["stride"] is not None else "None (= kernel_size)"
    return f"{shapes}, stride {stride}"
