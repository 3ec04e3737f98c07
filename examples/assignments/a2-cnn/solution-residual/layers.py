"""A2, part 1: convolution and max-pooling, forward and backward, with im2col.

Every window of the (padded) input is unrolled into a column once (im2col); the convolution is
then one matrix product per example, and its gradients are matrix products too. The backward
passes fold columns back onto the input with ``np.add.at``, which adds up the contributions of
overlapping windows. Arrays are (N, C, H, W); weights (F, C, KH, KW).
"""

import numpy as np


def _pair(value):
    if np.ndim(value) == 0:
        return int(value), int(value)
    along_h, along_w = value
    return int(along_h), int(along_w)


def _column_indices(channels, kernel, stride, out_size):
    """Indices (c, i, j), each of shape (C * KH * KW, HO * WO): column l of row r holds the input
    pixel x[c, i, j] that meets weight r (channel, row, column of the kernel) at output l."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_size
    kernel_rows = np.tile(np.repeat(np.arange(kh), kw), channels)
    kernel_cols = np.tile(np.arange(kw), kh * channels)
    out_rows = sh * np.repeat(np.arange(ho), wo)
    out_cols = sw * np.tile(np.arange(wo), ho)
    c = np.repeat(np.arange(channels), kh * kw)[:, None]
    i = kernel_rows[:, None] + out_rows[None, :]
    j = kernel_cols[:, None] + out_cols[None, :]
    return c, i, j


def _im2col(x, kernel, stride):
    """The windows of x (N, C, H, W) as columns (N, C * KH * KW, HO * WO), and the indices."""
    _, channels, h, w = x.shape
    out_size = ((h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1)
    indices = _column_indices(channels, kernel, stride, out_size)
    return x[:, indices[0], indices[1], indices[2]], indices, out_size


def _col2im(columns, indices, shape):
    """The inverse of _im2col for gradients: adds every column entry back onto its pixel."""
    folded = np.zeros(shape, dtype=columns.dtype)
    np.add.at(folded, (slice(None), *indices), columns)
    return folded


def conv2d_forward(x, w, b, stride=1, padding=0):
    """out = F.conv2d(x, w, b, stride, padding), shape (N, F, HO, WO); returns (out, cache)."""
    stride, (ph, pw) = _pair(stride), _pair(padding)
    n, f = x.shape[0], w.shape[0]
    padded = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)], mode="constant")
    columns, indices, (ho, wo) = _im2col(padded, w.shape[2:], stride)
    out = w.reshape(f, -1) @ columns  # (F, K) @ (N, K, L) -> (N, F, L)
    out = out.reshape(n, f, ho, wo) + b.reshape(1, f, 1, 1)
    cache = (columns, indices, padded.shape, x.shape, w, (ph, pw))
    return out, cache


def conv2d_backward(dout, cache):
    """Gradients (dx, dw, db) of the loss, given dout (N, F, HO, WO)."""
    columns, indices, padded_shape, x_shape, w, (ph, pw) = cache
    n, f = dout.shape[:2]
    dout_rows = dout.reshape(n, f, -1)  # (N, F, L)
    db = dout_rows.sum(axis=(0, 2))
    dw = (dout_rows @ columns.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcolumns = w.reshape(f, -1).T @ dout_rows  # (K, F) @ (N, F, L) -> (N, K, L)
    dpadded = _col2im(dcolumns, indices, padded_shape)
    h, width = x_shape[2:]
    return dpadded[:, :, ph : ph + h, pw : pw + width], dw, db


def maxpool2d_forward(x, kernel_size, stride=None):
    """out = F.max_pool2d(x, kernel_size, stride) (no padding); returns (out, cache)."""
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)
    n, c, h, w = x.shape
    # Each channel is pooled on its own: treat it as an example with one channel.
    columns, indices, (ho, wo) = _im2col(x.reshape(n * c, 1, h, w), kernel, stride)
    winners = columns.argmax(axis=1)  # (N * C, L): which entry of each window is the maximum
    out = np.take_along_axis(columns, winners[:, None, :], axis=1)[:, 0, :]
    return out.reshape(n, c, ho, wo), (winners, indices, columns.shape, x.shape)


def maxpool2d_backward(dout, cache):
    """dx: each window's gradient goes to its maximum; overlapping windows add up."""
    winners, indices, columns_shape, x_shape = cache
    n, c, h, w = x_shape
    dcolumns = np.zeros(columns_shape, dtype=dout.dtype)
    np.put_along_axis(dcolumns, winners[:, None, :], dout.reshape(n * c, 1, -1), axis=1)
    return _col2im(dcolumns, indices, (n * c, 1, h, w)).reshape(x_shape)
