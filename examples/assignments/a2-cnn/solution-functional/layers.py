"""A2, part 1: convolution and max-pooling with plain loops, computed in float32.

Each function loops over the output positions (and, for pooling, over examples and channels too)
and works on one window at a time: slow for big inputs, plain to read. The arithmetic is float32
throughout, so the results are float32 even though the inputs are float64.
"""

import numpy as np

DTYPE = np.float32


def to_pair(value):
    if isinstance(value, tuple | list):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv2d_forward(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    SH, SW = to_pair(stride)
    PH, PW = to_pair(padding)
    HO = (H + 2 * PH - KH) // SH + 1
    WO = (W + 2 * PW - KW) // SW + 1

    x_pad = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=DTYPE)
    x_pad[:, :, PH : PH + H, PW : PW + W] = x
    w32 = w.astype(DTYPE)
    out = np.zeros((N, F, HO, WO), dtype=DTYPE)
    for n in range(N):
        for i in range(HO):
            for j in range(WO):
                window = x_pad[n, :, i * SH : i * SH + KH, j * SW : j * SW + KW]
                for f in range(F):
                    out[n, f, i, j] = np.sum(window * w32[f]) + DTYPE(b[f])
    cache = (x_pad, w32, (SH, SW), (PH, PW), (H, W))
    return out, cache


def conv2d_backward(dout, cache):
    x_pad, w32, (SH, SW), (PH, PW), (H, W) = cache
    N, F, HO, WO = dout.shape
    KH, KW = w32.shape[2], w32.shape[3]
    dout = dout.astype(DTYPE)

    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w32)
    db = np.zeros(F, dtype=DTYPE)
    for n in range(N):
        for i in range(HO):
            for j in range(WO):
                rows = slice(i * SH, i * SH + KH)
                cols = slice(j * SW, j * SW + KW)
                for f in range(F):
                    g = dout[n, f, i, j]
                    db[f] += g
                    dw[f] += g * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += g * w32[f]
    dx = dx_pad[:, :, PH : PH + H, PW : PW + W]
    return dx, dw, db


def maxpool2d_forward(x, kernel_size, stride=None):
    N, C, H, W = x.shape
    KH, KW = to_pair(kernel_size)
    SH, SW = to_pair(kernel_size if stride is None else stride)
    HO = (H - KH) // SH + 1
    WO = (W - KW) // SW + 1

    x32 = x.astype(DTYPE)
    out = np.zeros((N, C, HO, WO), dtype=DTYPE)
    where = np.zeros((N, C, HO, WO, 2), dtype=np.int64)  # row and column of each maximum
    for n in range(N):
        for c in range(C):
            for i in range(HO):
                for j in range(WO):
                    window = x32[n, c, i * SH : i * SH + KH, j * SW : j * SW + KW]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    out[n, c, i, j] = window[r, s]
                    where[n, c, i, j] = (i * SH + r, j * SW + s)
    return out, (x.shape, where)


def maxpool2d_backward(dout, cache):
    x_shape, where = cache
    N, C, HO, WO = dout.shape
    dx = np.zeros(x_shape, dtype=DTYPE)
    for n in range(N):
        for c in range(C):
            for i in range(HO):
                for j in range(WO):
                    r, s = where[n, c, i, j]
                    dx[n, c, r, s] += dout[n, c, i, j]
    return dx
