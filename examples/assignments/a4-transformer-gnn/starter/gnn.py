"""A4, part 2: a graph convolutional network (Kipf and Welling, 2017) for node classification.

Replace each `raise NotImplementedError` with your code; do not change the names, signatures or
the parameters created in the __init__ methods: the autograder loads its own weights into your
modules and evaluates your trained weights in its own copy of this architecture. Dense tensors
are fine: the graphs here are small.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn


def normalized_adjacency(adj: Tensor) -> Tensor:
    """D^-1/2 (A + I) D^-1/2 for a dense, symmetric 0/1 adjacency matrix A (N, N).

    D is the diagonal degree matrix of A + I (every node gets a self-loop, so no degree is 0).
    Same dtype and device as ``adj``.
    """
    # TODO
    raise NotImplementedError


class GCNLayer(nn.Module):
    """One graph convolution: adj_norm @ (x @ weight) + bias, weight (in, out), bias (out,)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        bound = math.sqrt(6.0 / (in_features + out_features))  # Glorot, as in the paper
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x: Tensor, adj_norm: Tensor) -> Tensor:
        """x (N, in_features), adj_norm (N, N) from normalized_adjacency -> (N, out_features)."""
        # TODO
        raise NotImplementedError


class GCN(nn.Module):
    """Two GCN layers: conv1, ReLU, dropout, conv2 -> class logits (no softmax).

    Dropout (probability ``dropout``) is applied only in training mode, as F.dropout does it.
    Call the layers as modules, self.conv1(...) and self.conv2(...): the autograder hooks them.
    """

    def __init__(
        self, in_features: int, hidden: int = 16, num_classes: int = 2, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.conv1 = GCNLayer(in_features, hidden)
        self.conv2 = GCNLayer(hidden, num_classes)
        self.dropout = dropout

    def forward(self, x: Tensor, adj_norm: Tensor) -> Tensor:
        """x (N, in_features), adj_norm (N, N) -> logits (N, num_classes)."""
        # TODO
        raise NotImplementedError


def train_gcn(
    adj: Tensor,
    features: Tensor,
    train_nodes: Tensor,
    train_labels: Tensor,
    *,
    seed: int = 0,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> tuple[GCN, list[float]]:
    """Semi-supervised training: the loss is computed on train_nodes only.

    adj (N, N) float 0/1, features (N, F) float, train_nodes and train_labels (K,) int64.
    Returns (a GCN(F) with the default sizes, in eval mode, on ``device``; the training loss of
    each epoch). Call torch.manual_seed(seed) first: two calls with the same seed must return the
    same weights. Kipf and Welling's recipe works: Adam, learning rate 0.01, weight decay 5e-4,
    200 epochs (well under a second here).
    """
    # TODO
    raise NotImplementedError
