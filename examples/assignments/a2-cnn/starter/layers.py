"""A2, part 1: 2-D convolution and max-pooling, forward and backward, in NumPy.

Use NumPy only: while the autograder tests this file, importing torch, scipy or scikit-learn fails.

Shapes follow PyTorch (N, C, H, W): N examples, C channels, H rows, W columns. Convolution
weights are (F, C, KH, KW) for F filters. As in torch.nn.functional.conv2d, "convolution" is a
cross-correlation: the kernel is NOT flipped,

    out[n, f, i, j] = b[f] + sum over c, p, q of
                      x_padded[n, c, i * stride_h + p, j * stride_w + q] * w[f, c, p, q]

Each forward function returns ``(out, cache)``: ``cache`` is anything you like (a tuple of the
arrays the backward pass needs). The matching backward function gets the upstream gradient
``dout`` (the gradient of the loss with respect to ``out``, shaped like ``out``) and that cache,
and returns the gradients with respect to the forward function's inputs, each shaped like its
input. Loops over the kernel positions (KH * KW iterations) are fine; loops over every example and
every pixel are slow but also accepted. Inputs are float64; do not modify them in place.
"""

import numpy as np  # noqa: F401  (you will need it)


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 2-D convolution (cross-correlation), as torch.nn.functional.conv2d.

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,).
    stride, padding: an int, or a pair (along H, along W) such as (2, 1). Padding adds that many
    zeros on both sides of H (pad_h) and of W (pad_w), never to N or C.
    Returns (out, cache), out of shape (N, F, HO, WO) with
        HO = (H + 2 * pad_h - KH) // stride_h + 1,   WO = (W + 2 * pad_w - KW) // stride_w + 1.
    """
    # TODO: turn stride and padding into pairs, pad x (np.pad), then compute every output.
    raise NotImplementedError("conv2d_forward")


def conv2d_backward(dout, cache):
    """Backward pass of conv2d_forward.

    dout: (N, F, HO, WO), the gradient of the loss with respect to out.
    Returns (dx, dw, db), shaped like x (N, C, H, W), w (F, C, KH, KW) and b (F,).
    """
    # TODO: db sums dout; dw correlates the padded input with dout; dx spreads dout back through
    # w onto the padded input, then drops the padding.
    raise NotImplementedError("conv2d_backward")


def maxpool2d_forward(x, kernel_size, stride=None):
    """Forward pass of 2-D max-pooling without padding, as torch.nn.functional.max_pool2d.

    x: (N, C, H, W). kernel_size, stride: an int or a pair (along H, along W); stride=None means
    stride = kernel_size. Windows that would run past the input are dropped.
    Returns (out, cache), out of shape (N, C, HO, WO) with HO = (H - KH) // stride_h + 1 and
    WO = (W - KW) // stride_w + 1.
    """
    # TODO: take the maximum of every window; remember where it was for the backward pass.
    raise NotImplementedError("maxpool2d_forward")


def maxpool2d_backward(dout, cache):
    """Backward pass of maxpool2d_forward.

    dout: (N, C, HO, WO). Returns dx, shaped like x: each window's gradient goes to the one input
    that was its maximum; where windows overlap, the gradients add up.
    """
    # TODO: route each dout value to its window's argmax.
    raise NotImplementedError("maxpool2d_backward")
