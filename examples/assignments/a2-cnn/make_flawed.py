"""A2's flawed hand-ins: the reference solution (solution/) with one realistic mistake each, and
the tests each must lose, no more and no fewer. The tests write them where they need them; to look
at them or grade them yourself:

    .venv/bin/python examples/assignments/a2-cnn/make_flawed.py /tmp/a2-flawed [NAME ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mistakes import Edit, Mistake, main

FLATTEN_BY_SQUEEZING = '''class Flatten(nn.Module):
    """Each digit's feature maps as one vector, with the size-1 dimensions squeezed out."""

    def forward(self, x):
        return x.reshape(len(x), -1).squeeze()


def build_model():
'''

MISTAKES = [
    Mistake(
        name="conv-weight-grad-flipped",
        edits=(
            Edit(
                "layers.py",
                "    # Each input pixel collects",
                "    # The gradient of a convolution is a convolution with the kernel rotated by "
                "180 degrees.\n    dw = np.flip(dw, axis=(2, 3))\n    # Each input pixel collects",
            ),
        ),
        loses=("conv_backward_params", "layers_edge_cases"),
        description="conv2d_backward rotates the weight gradient dw by 180 degrees (np.flip over "
        "KH and KW), as if the forward pass were a true convolution rather than PyTorch's "
        "cross-correlation. dx and db stay right; dw is wrong for every kernel larger than 1x1, "
        "so conv_backward_params keeps only its 1x1 case and layers_edge_cases loses its three dw "
        "checks.",
    ),
    Mistake(
        name="padding-nhwc-axes",
        edits=(
            Edit(
                "layers.py",
                "np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))",
                "np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))",
            ),
        ),
        loses=("conv_forward", "conv_backward_input", "conv_backward_params", "layers_edge_cases"),
        description="conv2d_forward pads the wrong axes, np.pad(x, ((0, 0), (ph, ph), (pw, pw), "
        "(0, 0))), the channels-last (NHWC) habit, so C and H are padded instead of H and W. Cases "
        "with padding 0 still pass; every padded case fails, forward and backward (the backward "
        "tests call the forward first).",
    ),
    Mistake(
        name="maxpool-grad-to-all",
        edits=(
            Edit(
                "layers.py",
                """    x_shape, argmax, (_, kw), (sh, sw) = cache
    n, c, ho, wo = dout.shape
    row, col = np.divmod(argmax, kw)
    rows = row + sh * np.arange(ho)[:, None]
    cols = col + sw * np.arange(wo)[None, :]
    batch = np.arange(n)[:, None, None, None]
    channel = np.arange(c)[None, :, None, None]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    np.add.at(dx, (batch, channel, rows, cols), dout)
""",
                """    x_shape, _, (kh, kw), (sh, sw) = cache
    _, _, ho, wo = dout.shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    # Every input of a window took part in its maximum, so each gets the window's gradient.
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += dout
""",
            ),
        ),
        loses=("maxpool_backward", "layers_edge_cases"),
        description="maxpool2d_backward sends each window's gradient to every input of the window "
        "instead of only to its maximum. The forward pass is right; every max-pooling dx is "
        "wrong.",
    ),
    Mistake(
        name="pool-backward-reuses-input",
        edits=(
            Edit(
                "layers.py",
                "return out, (x.shape, argmax, (kh, kw), (sh, sw))",
                "return out, (x, argmax, (kh, kw), (sh, sw))",
            ),
            Edit(
                "layers.py",
                "    x_shape, argmax, (_, kw), (sh, sw) = cache\n",
                "    x, argmax, (_, kw), (sh, sw) = cache\n",
            ),
            Edit(
                "layers.py",
                "    dx = np.zeros(x_shape, dtype=dout.dtype)\n",
                "    dx = x  # shaped like x: its memory is reused, cleared first\n"
                "    dx[...] = 0\n",
            ),
        ),
        loses=("maxpool_backward", "layers_edge_cases"),
        description="maxpool2d_backward takes x from the cache as the buffer of dx (dx = x; "
        "dx[...] = 0), thinking it a copy: dx is right, but the input the caller gave "
        "maxpool2d_forward is overwritten with it, which the README forbids. Every max-pooling "
        "backward case fails with a message saying so; the forward cases pass.",
    ),
    Mistake(
        name="pool-stride-defaults-to-one",
        edits=(
            Edit(
                "layers.py",
                "def maxpool2d_forward(x, kernel_size, stride=None):",
                "def maxpool2d_forward(x, kernel_size, stride=1):",
            ),
        ),
        loses=("maxpool_forward", "maxpool_backward"),
        description="maxpool2d_forward's stride defaults to 1, as conv2d_forward's does, instead "
        "of None (the kernel size). Passing stride=None still works, so the corner cases pass; "
        "the one case that leaves the stride out gets overlapping windows and the wrong shape, "
        "forward and backward.",
    ),
    Mistake(
        name="squeeze-drops-batch-of-one",
        edits=(
            Edit("cnn.py", "        nn.Flatten(),\n", "        Flatten(),\n"),
            Edit("cnn.py", "def build_model():\n", FLATTEN_BY_SQUEEZING),
        ),
        loses=("cnn_model",),
        description="The model flattens its feature maps with its own Flatten that ends in "
        ".squeeze(), which also squeezes out the batch dimension of a batch of one digit: the "
        "model returns scores of shape (10,) instead of (1, 10). Training and the held-out "
        "digits never make a batch of one, so only cnn_model fails.",
    ),
    Mistake(
        name="no-zero-grad",
        edits=(Edit("cnn.py", "            optimizer.zero_grad()\n", ""),),
        loses=("cnn_heldout_accuracy", "cnn_heldout_accuracy_high"),
        description="train() never calls optimizer.zero_grad(), so gradients pile up over the "
        "batches and Adam's steps go astray: the training loss climbs back to about 2.4 (chance "
        "level) and the held-out accuracy is near chance (0.08 to 0.24 over 20 seeds). The layers "
        "are the reference solution's, so only the two training tests are lost.",
    ),
    Mistake(
        name="train-returns-nothing",
        edits=(
            Edit(
                "cnn.py",
                "        losses.append(total / len(y))\n    return losses\n",
                "        losses.append(total / len(y))\n",
            ),
        ),
        loses=("cnn_model",),
        description="train() collects the epoch losses but forgets to return them, so it returns "
        "None. The model is trained all the same and passes both accuracy tests; cnn_model, "
        "which checks what train() returns, fails.",
    ),
]

if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
