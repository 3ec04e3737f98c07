"""A2, part 2: a small CNN for the 8x8 digits, in PyTorch.

Use torch (and numpy) only; scikit-learn cannot be imported while the autograder runs this file.

The autograder seeds every random generator, then calls ``build_model()``, moves the model to
``device`` ("cuda" on a GPU worker, else "cpu"), calls ``train(model, x, y, device)`` once, puts
the model in eval mode and classifies the held-out digits with ``model(images).argmax(dim=1)``.
"""

import torch  # noqa: F401  (you will need it)
import torch.nn.functional as F  # noqa: F401
from torch import nn  # noqa: F401


def build_model():
    """Returns a CNN (a torch.nn.Module) mapping digits (N, 1, 8, 8) to class scores (N, 10).

    - The first convolution the digits go through (an nn.Conv2d, or F.conv2d with weights of
      your own) takes 1 input channel and has at most 64 filters: the autograder draws them in
      out/filters.png.
    - Any batch size N works, N = 1 included.
    - At most 100,000 parameters (a good model needs a few thousand).
    - Return raw scores (logits): no softmax at the end.
    """
    # TODO: e.g. two blocks of convolution, ReLU and 2x2 max-pooling, then a linear layer.
    raise NotImplementedError("build_model")


def train(model, x, y, device):
    """Trains ``model`` (already on ``device``) and returns the mean training loss of each epoch.

    x: (N, 1, 8, 8) float32 tensor on the CPU, pixel values in [0, 1]; y: (N,) int64 tensor of
    labels 0..9 (N = 1200). Move the batches to ``device`` yourself. train() must finish within
    60 s on one CPU core (a good solution needs about 1 s); a DataLoader needs no workers here.
    Return a list of finite floats, one per epoch: it is checked and shown with your results.
    """
    # TODO: an optimizer, then epochs of shuffled mini-batches: forward, cross-entropy loss,
    # backward, step. Record each epoch's mean loss.
    raise NotImplementedError("train")
