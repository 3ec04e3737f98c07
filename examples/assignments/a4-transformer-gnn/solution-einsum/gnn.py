"""A4, part 2: a graph convolutional network (Kipf and Welling, 2017) for node classification.

A correct hand-in in another style than the reference: the normalization as a product of matrices
with diagonal ones, the propagation as a sparse matrix product (torch.sparse.mm), and training as
in Kipf and Welling's code, with weight decay on the first layer only and the loss as NLL of a
log-softmax.
"""

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
    with_self_loops = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    d_inv_sqrt = torch.diag(with_self_loops.sum(dim=1) ** -0.5)
    return d_inv_sqrt @ with_self_loops @ d_inv_sqrt


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
        adjacency = adj_norm if adj_norm.is_sparse else adj_norm.to_sparse()
        return torch.sparse.mm(adjacency, x @ self.weight) + self.bias


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
        hidden = self.conv1(x, adj_norm).relu()
        if self.training:
            hidden = functional.dropout(hidden, p=self.dropout)
        return self.conv2(hidden, adj_norm)


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
    each epoch). Adam at 0.01 for 200 epochs, weight decay 5e-4 on conv1 only (as in Kipf and
    Welling's code); the sparse adjacency is made once.
    """
    torch.manual_seed(seed)
    adj_norm = normalized_adjacency(adj.to(device)).to_sparse()
    features = features.to(device)
    train_nodes, train_labels = train_nodes.to(device), train_labels.to(device)
    model = GCN(features.shape[1]).to(device)
    optimizer = torch.optim.Adam(
        [
            {"params": model.conv1.parameters(), "weight_decay": 5e-4},
            {"params": model.conv2.parameters(), "weight_decay": 0.0},
        ],
        lr=0.01,
    )
    losses = []
    model.train()
    for epoch in range(200):
        optimizer.zero_grad()
        log_probs = functional.log_softmax(model(features, adj_norm), dim=1)
        loss = functional.nll_loss(log_probs[train_nodes], train_labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if epoch % 40 == 39:
            log(f"epoch {epoch + 1}: loss {losses[-1]:.4f}")
    return model.eval(), losses
