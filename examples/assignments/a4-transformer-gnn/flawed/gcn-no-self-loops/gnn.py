"""A4, part 2: a graph convolutional network (Kipf and Welling, 2017) for node classification."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional


def normalized_adjacency(adj: Tensor) -> Tensor:
    """D^-1/2 (A + I) D^-1/2 for a dense, symmetric 0/1 adjacency matrix A (N, N).

    D is the diagonal degree matrix of A + I (every node gets a self-loop, so no degree is 0).
    Same dtype and device as ``adj``.
    """
    d_inv_sqrt = adj.sum(dim=1).rsqrt()
    d_inv_sqrt[torch.isinf(d_inv_sqrt)] = 0.0  # a node without edges
    return d_inv_sqrt[:, None] * adj * d_inv_sqrt[None, :]


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
        return adj_norm @ (x @ self.weight) + self.bias


class GCN(nn.Module):
    """Two GCN layers: conv1, ReLU, dropout, conv2 -> class logits (no softmax).

    Dropout (probability ``dropout``) is applied only in training mode.
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
        h = functional.relu(self.conv1(x, adj_norm))
        h = functional.dropout(h, self.dropout, training=self.training)
        return self.conv2(h, adj_norm)


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
    each epoch). Kipf and Welling's recipe: Adam, learning rate 0.01, weight decay 5e-4, 200 epochs.
    """
    torch.manual_seed(seed)
    adj_norm = normalized_adjacency(adj.to(device))
    features, train_nodes = features.to(device), train_nodes.to(device)
    train_labels = train_labels.to(device)
    model = GCN(features.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    losses = []
    for epoch in range(200):
        model.train()
        logits = model(features, adj_norm)
        loss = functional.cross_entropy(logits[train_nodes], train_labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if (epoch + 1) % 50 == 0:
            log(f"epoch {epoch + 1}: loss {loss.item():.4f}")
    return model.eval(), losses
