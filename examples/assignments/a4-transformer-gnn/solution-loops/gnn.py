"""A4, part 2: a graph convolutional network (Kipf and Welling, 2017) for node classification.

A correct hand-in in another style than the reference: the normalization is computed entry by
entry in Python, and a layer aggregates each node's neighbourhood in a loop over the nodes (only
the non-zero entries of its row). Training keeps the best model by training loss, checked every
epoch in eval mode, and prints debug lines.
"""

from __future__ import annotations

import copy
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
    a = adj.detach().cpu().tolist()
    n = len(a)
    degree = [sum(row) + 1.0 for row in a]
    result = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            entry = a[i][j] + (1.0 if i == j else 0.0)
            if entry:
                result[i][j] = entry / math.sqrt(degree[i] * degree[j])
    return torch.tensor(result, dtype=adj.dtype, device=adj.device)


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
        support = torch.mm(x, self.weight)
        rows = []
        for node in range(adj_norm.shape[0]):
            neighbours = torch.nonzero(adj_norm[node]).flatten()
            coefficients = adj_norm[node, neighbours].unsqueeze(1)
            rows.append((coefficients * support[neighbours]).sum(dim=0) + self.bias)
        return torch.stack(rows)


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
        h = self.conv1(x, adj_norm)
        h = functional.dropout(h, p=self.dropout, training=self.training)
        h = torch.relu(h)
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
    each epoch). Adam, learning rate 0.01, weight decay 5e-4, 150 epochs; the returned model is
    the one with the lowest loss on the labelled nodes in eval mode.
    """
    torch.manual_seed(seed)
    adj_norm = normalized_adjacency(adj).to(device)
    x = features.to(device)
    nodes, labels = train_nodes.to(device), train_labels.to(device)
    model = GCN(x.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    history = []
    best_loss, best_state = math.inf, copy.deepcopy(model.state_dict())
    for epoch in range(150):
        model.train()
        optimizer.zero_grad()
        loss = functional.cross_entropy(model(x, adj_norm)[nodes], labels)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
        model.eval()
        with torch.no_grad():
            eval_loss = functional.cross_entropy(model(x, adj_norm)[nodes], labels).item()
        if eval_loss < best_loss:
            best_loss, best_state = eval_loss, copy.deepcopy(model.state_dict())
        if epoch % 50 == 0:
            print(f"[debug] epoch {epoch} train {loss.item():.4f} eval {eval_loss:.4f}")
    log(f"best loss on the labelled nodes in eval mode: {best_loss:.4f}")
    model.load_state_dict(best_state)
    return model.eval(), history
