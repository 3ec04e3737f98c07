"""A3: recurrent neural networks, written step by step.

A correct hand-in in the style of a student who spells everything out: every time step and
every gate on its own (weights sliced per gate), caches as lists of dicts, the decoder applied
inside the time loop, clip_grad_norm_ summing float32 squares, and a training loop of its own
choosing (other sizes, the state carried across epochs too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

GATES = ("i", "f", "g", "o")  # the order of the four blocks of H columns (rows in PyTorch)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def gate_columns(hidden_size):
    """Each gate's block of columns in Wx, Wh and b."""
    return {name: slice(k * hidden_size, (k + 1) * hidden_size) for k, name in enumerate(GATES)}


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla (tanh) RNN over a whole sequence: h_t = tanh(x_t Wx + h_{t-1} Wh + b)."""
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    steps = []
    h_prev = h0
    for t in range(T):
        x_t = x[:, t, :]
        h_t = np.tanh(np.dot(x_t, Wx) + np.dot(h_prev, Wh) + b)
        steps.append({"x": x_t, "h_prev": h_prev, "h": h_t})
        h[:, t, :] = h_t
        h_prev = h_t
    return h, {"steps": steps, "Wx": Wx, "Wh": Wh, "shape": (N, T, D, H)}


def rnn_backward(dh, cache):
    """Backpropagation through time for rnn_forward: (dx, dh0, dWx, dWh, db)."""
    N, T, D, H = cache["shape"]
    Wx, Wh = cache["Wx"], cache["Wh"]
    dx = np.zeros((N, T, D))
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(H)
    from_next = np.zeros((N, H))  # what reaches h_t through h_{t+1}
    for t in range(T - 1, -1, -1):
        step = cache["steps"][t]
        dpre = (dh[:, t, :] + from_next) * (1.0 - step["h"] * step["h"])
        dx[:, t, :] = np.dot(dpre, Wx.T)
        dWx += np.dot(step["x"].T, dpre)
        dWh += np.dot(step["h_prev"].T, dpre)
        db += np.sum(dpre, axis=0)
        from_next = np.dot(dpre, Wh.T)
    return dx, from_next, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """An LSTM over a whole sequence from c_0 = 0, gates i, f, g, o."""
    N, T, D = x.shape
    H = h0.shape[1]
    columns = gate_columns(H)
    h = np.zeros((N, T, H))
    steps = []
    h_prev, c_prev = h0, np.zeros((N, H))
    for t in range(T):
        x_t = x[:, t, :]
        pre = {
            name: np.dot(x_t, Wx[:, cols]) + np.dot(h_prev, Wh[:, cols]) + b[cols]
            for name, cols in columns.items()
        }
        i, f, o = sigmoid(pre["i"]), sigmoid(pre["f"]), sigmoid(pre["o"])
        g = np.tanh(pre["g"])
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        h_t = o * tanh_c
        steps.append(
            {"x": x_t, "h_prev": h_prev, "c_prev": c_prev, "tanh_c": tanh_c}
            | {"i": i, "f": f, "g": g, "o": o}
        )
        h[:, t, :] = h_t
        h_prev, c_prev = h_t, c
    return h, {"steps": steps, "Wx": Wx, "Wh": Wh, "shape": (N, T, D, H)}


def lstm_backward(dh, cache):
    """Backpropagation through time for lstm_forward: (dx, dh0, dWx, dWh, db)."""
    N, T, D, H = cache["shape"]
    Wx, Wh = cache["Wx"], cache["Wh"]
    columns = gate_columns(H)
    dx = np.zeros((N, T, D))
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(4 * H)
    dh_from_next = np.zeros((N, H))
    dc_from_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        s = cache["steps"][t]
        dh_t = dh[:, t, :] + dh_from_next
        dc = dc_from_next + dh_t * s["o"] * (1.0 - s["tanh_c"] ** 2)
        dpre = {
            "i": dc * s["g"] * s["i"] * (1.0 - s["i"]),
            "f": dc * s["c_prev"] * s["f"] * (1.0 - s["f"]),
            "g": dc * s["i"] * (1.0 - s["g"] ** 2),
            "o": dh_t * s["tanh_c"] * s["o"] * (1.0 - s["o"]),
        }
        dh_prev = np.zeros((N, H))
        for name, cols in columns.items():
            d = dpre[name]
            dx[:, t, :] += np.dot(d, Wx[:, cols].T)
            dh_prev += np.dot(d, Wh[:, cols].T)
            dWx[:, cols] += np.dot(s["x"].T, d)
            dWh[:, cols] += np.dot(s["h_prev"].T, d)
            db[cols] += np.sum(d, axis=0)
        dh_from_next = dh_prev
        dc_from_next = dc * s["f"]
    return dx, dh_from_next, dWx, dWh, db


def clip_grad_norm_(parameters: Iterable[torch.Tensor], max_norm: float) -> float:
    """Scales all gradients by one factor so that their global L2 norm is at most max_norm;
    returns the norm before clipping."""
    grads = [p.grad for p in parameters if p.grad is not None]
    squares = 0.0
    for grad in grads:
        squares += float((grad.float() ** 2).sum())
    total = math.sqrt(squares)
    factor = max_norm / (total + 1e-6)
    if factor < 1.0:
        for grad in grads:
            grad.mul_(factor)
    return total


class LSTMCell(nn.Module):
    """One LSTM step with PyTorch's parameter layout and gate order (i, f, g, o)."""

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

    def gate(self, k, x, h):
        """The pre-activation of gate number k (0: i, 1: f, 2: g, 3: o), from its rows."""
        rows = slice(k * self.hidden_size, (k + 1) * self.hidden_size)
        return x @ self.weight_ih[rows].t() + h @ self.weight_hh[rows].t() + self.bias[rows]

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        i = torch.sigmoid(self.gate(0, x, h))
        f = torch.sigmoid(self.gate(1, x, h))
        g = torch.tanh(self.gate(2, x, h))
        o = torch.sigmoid(self.gate(3, x, h))
        c_next = f * c + i * g
        h_next = o * torch.tanh(c_next)
        return h_next, c_next


class CharLSTM(nn.Module):
    """A character-level language model: embedding, LSTMCell, a linear decoder."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.cell = LSTMCell(embed_dim, hidden_size)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def initial_state(self, batch_size: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        zeros = torch.zeros(batch_size, self.cell.hidden_size, device=device)
        return zeros, zeros.clone()

    def forward(self, ids: torch.Tensor, state=None):
        N, T = ids.shape
        if state is None:
            h = self.decoder.weight.new_zeros(N, self.cell.hidden_size)
            c = self.decoder.weight.new_zeros(N, self.cell.hidden_size)
        else:
            h, c = state
        logits = []
        for t in range(T):
            h, c = self.cell(self.embed(ids[:, t]), (h, c))
            logits.append(self.decoder(h))
        return torch.stack(logits, dim=1), (h, c)


def encode(text: str, vocab: str) -> torch.Tensor:
    """The characters of ``text`` as a 1-D LongTensor of indices into ``vocab``."""
    index = {char: i for i, char in enumerate(vocab)}
    return torch.tensor([index[char] for char in text], dtype=torch.long)


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cuts a 1-D sequence into ``batch_size`` contiguous streams: shape (batch_size, L)."""
    length = ids.shape[0] // batch_size
    return ids[: length * batch_size].view(batch_size, length)


def train_language_model(
    text: str,
    vocab: str,
    *,
    device: str = "cpu",
    seed: int = 0,
    epochs: int = 7,
    batch_size: int = 32,
    seq_len: int = 20,
    lr: float = 1.2e-2,
    max_norm: float = 2.0,
    embed_dim: int = 24,
    hidden_size: int = 128,
):
    """Truncated BPTT over ``batch_size`` streams. The state is never reset, not even between
    epochs; it is cut from its graph before every chunk."""
    torch.manual_seed(seed)
    streams = batchify(encode(text, vocab), batch_size).to(device)
    model = CharLSTM(len(vocab), embed_dim, hidden_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    length = streams.shape[1]
    h, c = model.initial_state(batch_size, device)
    losses = []
    for _ in range(epochs):
        loss_sum = 0.0
        predicted = 0
        start = 0
        while start + 1 < length:
            end = min(start + seq_len, length - 1)
            inputs = streams[:, start:end]
            targets = streams[:, start + 1 : end + 1]
            h, c = h.detach(), c.detach()
            logits, (h, c) = model(inputs, (h, c))
            loss = F.cross_entropy(logits.transpose(1, 2), targets)
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            loss_sum += loss.item() * targets.numel()
            predicted += targets.numel()
            start = end
        losses.append(loss_sum / predicted)
    return model, losses
