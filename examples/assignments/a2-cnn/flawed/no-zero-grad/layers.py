"""A2, part 1: conv2d and max-pooling, forward and backward, in NumPy (flawed: see expected.json).

Shapes follow PyTorch (N, C, H, W): N examples, C channels, H rows, W columns. Convolution
weights are (F, C, KH, KW) for F filters. As in torch.nn.functional.conv2d, "convolution" is a
cross-correlation: the kernel is not flipped. Each forward function returns ``(out, cache)``;
the matching backward function takes the upstream gradient ``dout`` (shaped like ``out``) and
that cache.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(value):
    """An int or a pair as the pair (along H, along W)."""
    if isinstance(value, int | np.integer):
        return (int(value), int(value))
    first, second = value
    return (int(first), int(second))


def _windows(x, kh, kw, sh, sw):
    """Every (kh, kw) window of x at stride (sh, sw): a read-only view (N, C, HO, WO, KH, KW)."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 2-D convolution (cross-correlation), as torch.nn.functional.conv2d.

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,). ``stride`` and ``padding`` are ints or pairs
    (along H, along W); padding adds zeros on both sides of H and W.
    Returns ``(out, cache)``, out of shape (N, F, HO, WO) with
    HO = (H + 2 * pad_h - KH) // stride_h + 1 and WO likewise.
    """
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    kh, kw = w.shape[2:]
    x_padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = _windows(x_padded, kh, kw, sh, sw)
    out = np.einsum("nchwij,fcij->nfhw", windows, w, optimize=True) + b[None, :, None, None]
    return out, (x_padded, w, (sh, sw), (ph, pw), x.shape)


def conv2d_backward(dout, cache):
    """Backward pass of ``conv2d_forward``: returns ``(dx, dw, db)``, shaped like x, w and b."""
    x_padded, w, (sh, sw), (ph, pw), (_, _, h, width) = cache
    kh, kw = w.shape[2:]
    ho, wo = dout.shape[2:]
    db = dout.sum(axis=(0, 2, 3))
    # Each weight w[f, c, i, j] met the inputs of every window at offset (i, j).
    dw = np.einsum("nchwij,nfhw->fcij", _windows(x_padded, kh, kw, sh, sw), dout, optimize=True)
    # Each input pixel collects the gradient of every output whose window covered it.
    dx_padded = np.zeros_like(x_padded)
    for i in range(kh):
        for j in range(kw):
            dx_padded[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += np.einsum(
                "nfhw,fc->nchw", dout, w[:, :, i, j]
            )
    dx = dx_padded[:, :, ph : ph + h, pw : pw + width]
    return dx, dw, db


def maxpool2d_forward(x, kernel_size, stride=None):
    """Forward pass of 2-D max-pooling without padding, as torch.nn.functional.max_pool2d.

    x: (N, C, H, W). ``kernel_size`` and ``stride`` are ints or pairs (along H, along W);
    ``stride=None`` means the kernel size. Windows that would run past the input are dropped.
    Returns ``(out, cache)``, out of shape (N, C, HO, WO) with HO = (H - KH) // stride_h + 1.
    """
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride if stride is not None else kernel_size)
    windows = _windows(x, kh, kw, sh, sw)
    n, c, ho, wo = windows.shape[:4]
    flat = windows.reshape(n, c, ho, wo, kh * kw)
    argmax = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]
    return out, (x.shape, argmax, (kh, kw), (sh, sw))


def maxpool2d_backward(dout, cache):
    """Backward pass of ``maxpool2d_forward``: returns dx, shaped like x.

    Each window's gradient goes to the one input that was its maximum; overlapping windows add up.
    """
    x_shape, argmax, (_, kw), (sh, sw) = cache
    n, c, ho, wo = dout.shape
    row, col = np.divmod(argmax, kw)
    rows = row + sh * np.arange(ho)[:, None]
    cols = col + sw * np.arange(wo)[None, :]
    batch = np.arange(n)[:, None, None, None]
    channel = np.arange(c)[None, :, None, None]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    np.add.at(dx, (batch, channel, rows, cols), dout)
    return dx
