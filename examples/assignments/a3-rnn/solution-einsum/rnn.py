"""A3: recurrent neural networks, vectorised.

A correct hand-in in the style of a student who keeps the time loop as short as it can be: the
input projections of all time steps at once, and the weight gradients with einsum after the
backward loop; in PyTorch, addmm and split for the cell, the state passed by keyword, the
gradients clipped as one flattened vector, AdamW with a decaying learning rate, and a progress
line printed every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def previous_states(h0, h):
    """h_{t-1} for every t, shape (N, T, H): h0, then h_1 .. h_{T-1}."""
    return np.concatenate([h0[:, None, :], h[:, :-1, :]], axis=1)


def rnn_forward(x, h0, Wx, Wh, b):
    """h_t = tanh(x_t Wx + h_{t-1} Wh + b) for all t: (h (N, T, H), cache)."""
    projected = np.einsum("ntd,dh->nth", x, Wx) + b
    h = np.empty(projected.shape)
    state = h0
    for t in range(x.shape[1]):
        state = np.tanh(projected[:, t] + state @ Wh)
        h[:, t] = state
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    da = np.empty_like(h)  # the gradient of every pre-activation
    through_time = np.zeros_like(h0)
    for t in reversed(range(h.shape[1])):
        da[:, t] = (dh[:, t] + through_time) * (1 - h[:, t] ** 2)
        through_time = da[:, t] @ Wh.T
    dx = np.einsum("nth,dh->ntd", da, Wx)
    dWx = np.einsum("ntd,nth->dh", x, da)
    dWh = np.einsum("ntk,nth->kh", previous_states(h0, h), da)
    return dx, through_time, dWx, dWh, da.sum(axis=(0, 1))


def lstm_forward(x, h0, Wx, Wh, b):
    """The LSTM from c_0 = 0; the activations of all gates are kept as one (N, T, 4H) array,
    blocks i, f, g, o."""
    n, steps, _ = x.shape
    hidden = h0.shape[1]
    projected = np.einsum("ntd,dk->ntk", x, Wx) + b
    gates = np.empty(projected.shape)
    c = np.empty((n, steps, hidden))
    h = np.empty((n, steps, hidden))
    h_prev, c_prev = h0, np.zeros_like(h0)
    for t in range(steps):
        a = projected[:, t] + h_prev @ Wh
        gates[:, t] = sigmoid(a)
        gates[:, t, 2 * hidden : 3 * hidden] = np.tanh(a[:, 2 * hidden : 3 * hidden])
        i, f, g, o = np.split(gates[:, t], 4, axis=1)
        c[:, t] = f * c_prev + i * g
        h[:, t] = o * np.tanh(c[:, t])
        h_prev, c_prev = h[:, t], c[:, t]
    return h, (x, h0, Wx, Wh, gates, c, h)


def lstm_backward(dh, cache):
    x, h0, Wx, Wh, gates, c, h = cache
    steps = x.shape[1]
    c_before = np.concatenate([np.zeros_like(h0)[:, None], c[:, :-1]], axis=1)
    da = np.empty_like(gates)
    dh_next = np.zeros_like(h0)
    dc_next = np.zeros_like(h0)
    for t in reversed(range(steps)):
        i, f, g, o = np.split(gates[:, t], 4, axis=1)
        tanh_c = np.tanh(c[:, t])
        dh_t = dh[:, t] + dh_next
        dc = dc_next + dh_t * o * (1 - tanh_c**2)
        da[:, t] = np.concatenate(
            [
                dc * g * i * (1 - i),
                dc * c_before[:, t] * f * (1 - f),
                dc * i * (1 - g**2),
                dh_t * tanh_c * o * (1 - o),
            ],
            axis=1,
        )
        dh_next = da[:, t] @ Wh.T
        dc_next = dc * f
    dx = np.einsum("ntk,dk->ntd", da, Wx)
    dWx = np.einsum("ntd,ntk->dk", x, da)
    dWh = np.einsum("ntj,ntk->jk", previous_states(h0, h), da)
    return dx, dh_next, dWx, dWh, da.sum(axis=(0, 1))


def clip_grad_norm_(parameters: Iterable[torch.Tensor], max_norm: float) -> float:
    """One factor for all gradients, from the norm of all of them as one vector."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    with torch.no_grad():
        total = torch.cat([g.reshape(-1) for g in grads]).norm().item()
        if total > max_norm:
            for g in grads:
                g *= max_norm / total
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

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        gates = torch.addmm(self.bias, x, self.weight_ih.t()).addmm(h, self.weight_hh.t())
        i, f, g, o = torch.split(gates, self.hidden_size, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


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
        state = self.initial_state(len(ids), ids.device) if state is None else state
        outputs = []
        for x in self.embed(ids).unbind(dim=1):
            state = self.cell(x, state=state)
            outputs.append(state[0])
        return self.decoder(torch.stack(outputs, dim=1)), state


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
    epochs: int = 12,
    batch_size: int = 32,
    seq_len: int = 25,
    lr: float = 1.5e-2,
    max_norm: float = 1.0,
    embed_dim: int = 32,
    hidden_size: int = 112,
):
    """Truncated BPTT, AdamW with the learning rate decaying by 0.85 each epoch."""
    torch.manual_seed(seed)
    data = batchify(encode(text, vocab), batch_size).to(device)
    model = CharLSTM(len(vocab), embed_dim, hidden_size).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.85)
    losses = []
    for epoch in range(epochs):
        model.train()
        state = model.initial_state(batch_size, device)
        chunk_losses, chunk_sizes = [], []
        for start in range(0, data.size(1) - 1, seq_len):
            chunk = data[:, start : start + seq_len + 1]
            state = (state[0].detach(), state[1].detach())
            logits, state = model(chunk[:, :-1], state=state)
            loss = F.cross_entropy(logits.flatten(0, 1), chunk[:, 1:].flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            chunk_losses.append(loss.item())
            chunk_sizes.append(chunk[:, 1:].numel())
        schedule.step()
        losses.append(float(np.average(chunk_losses, weights=chunk_sizes)))
        print(f"epoch {epoch + 1}/{epochs}: loss {losses[-1]:.3f}", flush=True)
    return model, losses
