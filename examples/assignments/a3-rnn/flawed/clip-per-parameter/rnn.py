"""A3: recurrent neural networks (the reference solution).

Part 1, NumPy: a vanilla RNN and an LSTM over whole sequences, forward and backward
(backpropagation through time) by hand. Part 2, PyTorch: gradient clipping by global norm, an
LSTM cell with a fixed parameter layout, and a character-level language model trained with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------------------------
# Part 1: NumPy. Gradients by hand: autograd is switched off while these functions are graded.
# ----------------------------------------------------------------------------------------------


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla (tanh) RNN over a whole sequence: h_t = tanh(x_t Wx + h_{t-1} Wh + b).

    x: (N, T, D) inputs, h0: (N, H) initial hidden state, Wx: (D, H), Wh: (H, H), b: (H,).
    Returns (h, cache): h of shape (N, T, H) holds every hidden state h_1..h_T; cache is
    whatever rnn_backward needs.
    """
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        h[:, t] = prev
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    """Backpropagation through time for rnn_forward.

    dh: (N, T, H), the gradient of the loss with respect to every hidden state h_t (as the loss
    sees it directly, e.g. through an output layer at each step; not including the gradient
    that reaches h_t through h_{t+1}). Returns (dx, dh0, dWx, dWh, db), each shaped like the
    matching input of rnn_forward.
    """
    x, h0, Wx, Wh, h = cache
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        h_prev = h[:, t - 1] if t > 0 else h0
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """An LSTM over a whole sequence; the initial cell state c_0 is zero.

    x: (N, T, D), h0: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,). The pre-activations
    a_t = x_t Wx + h_{t-1} Wh + b are split into four blocks of H columns in the order
    input gate i, forget gate f, cell candidate g, output gate o (PyTorch's order):
        i = sigmoid(a[:, 0:H]), f = sigmoid(a[:, H:2H]), g = tanh(a[:, 2H:3H]),
        o = sigmoid(a[:, 3H:4H]), c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t).
    Returns (h, cache) with h of shape (N, T, H).
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    steps = []
    h_prev, c_prev = h0, np.zeros_like(h0)
    for t in range(T):
        a = x[:, t] @ Wx + h_prev @ Wh + b
        i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 3 * H :])
        g = np.tanh(a[:, 2 * H : 3 * H])
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        h[:, t] = o * tanh_c
        steps.append((h_prev, c_prev, i, f, g, o, tanh_c))
        h_prev, c_prev = h[:, t], c
    return h, (x, Wx, Wh, steps)


def lstm_backward(dh, cache):
    """Backpropagation through time for lstm_forward; dh as in rnn_backward.

    Returns (dx, dh0, dWx, dWh, db).
    """
    x, Wx, Wh, steps = cache
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[1])
    dh_next = np.zeros((x.shape[0], Wh.shape[0]))
    dc_next = np.zeros_like(dh_next)
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, tanh_c = steps[t]
        dh_t = dh[:, t] + dh_next
        dc = dc_next + dh_t * o * (1 - tanh_c**2)
        da = np.concatenate(
            [
                dc * g * i * (1 - i),
                dc * c_prev * f * (1 - f),
                dc * i * (1 - g**2),
                dh_t * tanh_c * o * (1 - o),
            ],
            axis=1,
        )
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
        dc_next = dc * f
    return dx, dh_next, dWx, dWh, db


# ----------------------------------------------------------------------------------------------
# Part 2: PyTorch. Here autograd computes the gradients.
# ----------------------------------------------------------------------------------------------


def clip_grad_norm_(parameters: Iterable[torch.Tensor], max_norm: float) -> float:
    """Scales the gradients of ``parameters`` in place so that their global L2 norm (the norm of
    all gradients concatenated into one vector) is at most ``max_norm``; parameters whose
    ``.grad`` is None are skipped. Returns the global norm before clipping, as a float.

    ``parameters`` may be a generator such as ``model.parameters()``: go through it only once.
    Write it yourself: torch.nn.utils.clip_grad_norm_ is not allowed.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    norms = []
    for g in grads:
        norm = float(g.detach().double().norm())
        if norm > max_norm:
            g.detach().mul_(max_norm / (norm + 1e-6))
        norms.append(norm)
    return max(norms)


class LSTMCell(nn.Module):
    """One LSTM step in PyTorch, with PyTorch's parameter layout and gate order (i, f, g, o).

    Parameters (do not rename or reshape them: the autograder loads your trained weights by
    these names): weight_ih (4H, D), weight_hh (4H, H), bias (4H,). The gates are
        gates = x @ weight_ih.T + h @ weight_hh.T + bias, split into 4 blocks of H columns:
        i, f, g, o; then c' = sigmoid(f) * c + sigmoid(i) * tanh(g), h' = sigmoid(o) * tanh(c').
    Use torch operations only (no torch.nn.LSTM or torch.nn.LSTMCell): autograd does the rest.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)
        with torch.no_grad():
            # A forget gate that starts open lets the gradient through time from the first step.
            self.bias[self.hidden_size : 2 * self.hidden_size].fill_(1.0)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (N, D); state: (h, c), each (N, H). Returns the next (h, c)."""
        h, c = state
        gates = F.linear(x, self.weight_ih) + F.linear(h, self.weight_hh) + self.bias
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class CharLSTM(nn.Module):
    """A character-level language model: embedding, your LSTMCell, a linear decoder.

    Keep the attribute names (embed, cell, decoder) and add no parameters: the autograder loads
    the state_dict of your trained model into its own copy of this architecture. You may
    choose embed_dim and hidden_size (up to 1024).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.cell = LSTMCell(embed_dim, hidden_size)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def initial_state(self, batch_size: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        zeros = torch.zeros(batch_size, self.cell.hidden_size, device=device)
        return zeros, zeros.clone()

    def forward(self, ids: torch.Tensor, state=None):
        """ids: (N, T) character indices; state: (h, c) or None for zeros.

        Returns (logits of shape (N, T, V), the final state (h, c)). The gradient of the loss
        must flow back through all T steps of the sequence.
        """
        if state is None:
            state = self.initial_state(ids.shape[0], ids.device)
        embedded = self.embed(ids)
        hidden = []
        for t in range(ids.shape[1]):
            state = self.cell(embedded[:, t], state)
            hidden.append(state[0])
        return self.decoder(torch.stack(hidden, dim=1)), state


def encode(text: str, vocab: str) -> torch.Tensor:
    """The characters of ``text`` as a 1-D LongTensor of indices into ``vocab``."""
    index = {char: i for i, char in enumerate(vocab)}
    return torch.tensor([index[char] for char in text], dtype=torch.long)


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cuts a 1-D sequence into ``batch_size`` contiguous streams: shape (batch_size, L).

    Row k continues where it left off from one chunk to the next, which is what lets the hidden
    state be carried over between chunks (truncated BPTT).
    """
    length = ids.shape[0] // batch_size
    return ids[: length * batch_size].view(batch_size, length)


def train_language_model(
    text: str,
    vocab: str,
    *,
    device: str = "cpu",
    seed: int = 0,
    epochs: int = 12,
    batch_size: int = 16,
    seq_len: int = 50,
    lr: float = 1e-2,
    max_norm: float = 1.0,
    embed_dim: int = 32,
    hidden_size: int = 128,
):
    """Trains a CharLSTM on ``text`` with truncated backpropagation through time.

    Returns (model, losses): the trained model and the mean training cross-entropy of each
    epoch (a list of floats, one per epoch).
    """
    torch.manual_seed(seed)
    streams = batchify(encode(text, vocab), batch_size).to(device)
    model = CharLSTM(len(vocab), embed_dim, hidden_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        state = None
        total, count = 0.0, 0
        for start in range(0, streams.shape[1] - 1, seq_len):
            targets = streams[:, start + 1 : start + 1 + seq_len]
            inputs = streams[:, start : start + targets.shape[1]]
            if state is not None:
                # Truncated BPTT: keep the values, cut the graph of the chunk before.
                state = tuple(s.detach() for s in state)
            logits, state = model(inputs, state)
            loss = F.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            total += loss.item() * targets.numel()
            count += targets.numel()
        losses.append(total / count)
    return model, losses
