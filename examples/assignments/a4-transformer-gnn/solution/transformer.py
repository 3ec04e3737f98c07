"""A4, part 1: attention, multi-head attention and a tiny Transformer that learns to sort.

Every mask in this file is boolean and means the same thing: True where a query MAY attend to a
key, False where it must not. (torch.nn.MultiheadAttention uses the opposite convention for its
masks.)

The reference solution; attention is written here, not taken from PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional

# The sorting task: NUM_DIGITS digits 0..NUM_VALUES-1, then SEP, then the same digits sorted.
NUM_VALUES = 10
NUM_DIGITS = 8
SEP = NUM_VALUES
VOCAB_SIZE = NUM_VALUES + 1
MAX_LEN = 2 * NUM_DIGITS  # the model reads the sequence without its last token


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """softmax(q k^T / sqrt(d)) v, and the attention weights.

    q: (..., Lq, d), k: (..., Lk, d), v: (..., Lk, dv); mask: bool, broadcastable to
    (..., Lq, Lk), True where the query may attend to the key. Every query row has at least one
    key it may attend to. Returns (output (..., Lq, dv), weights (..., Lq, Lk)); the weights of
    each query sum to 1 and are exactly 0 where the mask is False.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def causal_mask(length: int, device: torch.device | str | None = None) -> Tensor:
    """(length, length) bool on ``device``: position i may attend to positions 0..i only."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B, max_len) bool, on lengths' device: True at the first lengths[b] positions of row b
    (the real tokens), False at the padding after them."""
    return torch.arange(max_len, device=lengths.device) < lengths[:, None]


class MultiHeadAttention(nn.Module):
    """Multi-head attention with batch-first inputs, as torch.nn.MultiheadAttention computes it.

    Each of q_proj, k_proj, v_proj maps d_model to d_model; head h uses features
    h*d_head .. (h+1)*d_head - 1 of each projection, d_head = d_model // num_heads. The heads'
    outputs are concatenated in head order and go through out_proj. No dropout.
    """

    def __init__(self, d_model: int, num_heads: int) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError("d_model must be a multiple of num_heads")
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_head = d_model // num_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """query (B, Lq, d_model), key and value (B, Lk, d_model).

        key_padding_mask: (B, Lk) bool, True at real keys (False at padding).
        attn_mask: (Lq, Lk) bool, True where query i may attend to key j (e.g. causal_mask).
        When both are given, a query may attend to a key only where both are True.
        Returns (output (B, Lq, d_model), weights averaged over the heads (B, Lq, Lk)).
        """
        batch, len_q, _ = query.shape
        len_k = key.shape[1]

        def heads(x: Tensor, length: int) -> Tensor:
            return x.view(batch, length, self.num_heads, self.d_head).transpose(1, 2)

        q = heads(self.q_proj(query), len_q)
        k = heads(self.k_proj(key), len_k)
        v = heads(self.v_proj(value), len_k)
        mask = None
        if key_padding_mask is not None:
            mask = key_padding_mask[:, None, None, :]
        if attn_mask is not None:
            mask = attn_mask if mask is None else mask & attn_mask
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        out = out.transpose(1, 2).reshape(batch, len_q, self.d_model)
        return self.out_proj(out), weights.mean(dim=1)


class TransformerBlock(nn.Module):
    """A pre-norm block: x + attn(ln1(x)), then x + ff(ln2(x)), ff = Linear, ReLU, Linear."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, num_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))

    def forward(self, x: Tensor, key_padding_mask: Tensor | None, attn_mask: Tensor) -> Tensor:
        """x (B, L, d_model) -> (B, L, d_model); self-attention on ln1(x) with both masks."""
        h = self.ln1(x)
        x = x + self.attn(h, h, h, key_padding_mask, attn_mask)[0]
        return x + self.ff(self.ln2(x))


class TinyTransformer(nn.Module):
    """A decoder-only (causal) Transformer language model."""

    def __init__(
        self,
        vocab_size: int = VOCAB_SIZE,
        max_len: int = MAX_LEN,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        d_ff: int = 128,
    ) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, num_heads, d_ff) for _ in range(num_layers)
        )
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, tokens: Tensor, key_padding_mask: Tensor | None = None) -> Tensor:
        """tokens (B, L) int64, L <= max_len -> logits (B, L, vocab_size).

        x = token_embedding(tokens) + position_embedding(0..L-1); each block with the causal mask
        (and key_padding_mask, if given); then ln_f and head.
        """
        length = tokens.shape[1]
        positions = torch.arange(length, device=tokens.device)
        x = self.token_embedding(tokens) + self.position_embedding(positions)
        mask = causal_mask(length, tokens.device)
        for block in self.blocks:
            x = block(x, key_padding_mask, mask)
        return self.head(self.ln_f(x))


def sort_batch(batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """A batch of the sorting task: (inputs (B, MAX_LEN), targets (B, MAX_LEN)), int64, on CPU.

    Each row is x_1..x_n SEP y_1..y_n (n = NUM_DIGITS digits, y = x sorted) without its last
    token; targets are the next tokens, -100 (ignored by cross_entropy) where the next token is
    not one of the sorted digits. Given: do not change it.
    """
    digits = torch.randint(0, NUM_VALUES, (batch_size, NUM_DIGITS), generator=generator)
    sep = torch.full((batch_size, 1), SEP)
    full = torch.cat([digits, sep, digits.sort(dim=1).values], dim=1)
    targets = full[:, 1:].clone()
    targets[:, : NUM_DIGITS - 1] = -100
    return full[:, :-1], targets


def train_sorter(
    *, seed: int = 0, device: str = "cpu", log: Callable[[str], None] = print
) -> tuple[TinyTransformer, list[float]]:
    """Trains a TinyTransformer() (default sizes) on sort_batch data drawn with a generator seeded
    with ``seed``, on ``device``; returns (the model in eval mode, the mean loss of each epoch).

    An epoch is 20 steps of batch 128; 160 steps with AdamW and a one-cycle learning rate (peak
    6e-3) take about 3 seconds on one CPU core.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = TinyTransformer().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=6e-3, weight_decay=0.01)
    epochs, steps = 8, 20
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=6e-3, total_steps=epochs * steps, pct_start=0.1
    )
    losses = []
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for _ in range(steps):
            inputs, targets = sort_batch(128, generator)
            inputs, targets = inputs.to(device), targets.to(device)
            logits = model(inputs)
            loss = functional.cross_entropy(logits.reshape(-1, VOCAB_SIZE), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        losses.append(total / steps)
        log(f"epoch {epoch + 1}: loss {losses[-1]:.4f}")
    return model.eval(), losses
