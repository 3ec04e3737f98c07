"""A4, part 1: attention, multi-head attention and a tiny Transformer that learns to sort.

Every mask in this file is boolean and means the same thing: True where a query MAY attend to a
key, False where it must not.

A correct hand-in in another style than the reference: every product is an einsum, the softmax is
written out (the row maximum subtracted, masked weights multiplied by 0), MultiHeadAttention
always builds one combined mask, the projections are einsums with the Linear layers' weights,
TinyTransformer keeps its causal mask in a buffer, and train_sorter uses Adam with warm-up, a
cosine decay and gradient clipping for 200 steps.
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
    scores = torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    # exp() of anything above about 88 overflows float32: shift each row to a maximum of 0.
    scores = scores - scores.amax(dim=-1, keepdim=True).detach()
    weights = scores.exp()
    if mask is not None:
        weights = weights * mask
    weights = weights / weights.sum(dim=-1, keepdim=True)
    return torch.einsum("...qk,...kv->...qv", weights, v), weights


def causal_mask(length: int, device: torch.device | str | None = None) -> Tensor:
    """(length, length) bool on ``device``: position i may attend to positions 0..i only."""
    positions = torch.arange(length, device=device)
    return positions[:, None] >= positions[None, :]


def padding_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B, max_len) bool, on lengths' device: True at the first lengths[b] positions of row b
    (the real tokens), False at the padding after them."""
    return lengths[:, None] > torch.arange(max_len, device=lengths.device)[None, :]


def _project(x: Tensor, layer: nn.Linear) -> Tensor:
    return torch.einsum("ble,de->bld", x, layer.weight) + layer.bias


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
        batch, len_q, len_k = query.shape[0], query.shape[1], key.shape[1]
        # (B, L, d_model) -> (B, heads, L, d_head)
        q, k, v = (
            _project(x, layer).unflatten(-1, (self.num_heads, self.d_head)).transpose(1, 2)
            for x, layer in ((query, self.q_proj), (key, self.k_proj), (value, self.v_proj))
        )
        allowed = torch.ones(batch, 1, len_q, len_k, dtype=torch.bool, device=query.device)
        if key_padding_mask is not None:
            allowed = allowed & key_padding_mask[:, None, None, :]
        if attn_mask is not None:
            allowed = allowed & attn_mask
        heads, weights = scaled_dot_product_attention(q, k, v, allowed)
        merged = heads.transpose(1, 2).flatten(start_dim=2)
        return _project(merged, self.out_proj), weights.sum(dim=1) / self.num_heads


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
        normed = self.ln1(x)
        attended, _ = self.attn(
            normed, normed, normed, key_padding_mask=key_padding_mask, attn_mask=attn_mask
        )
        x = x + attended
        return x + self.ff(self.ln2(x))


class TinyTransformer(nn.Module):
    """A decoder-only (causal) Transformer language model."""

    causal: Tensor

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
        # A buffer, not a parameter: it moves with .to(device) and is never trained.
        self.register_buffer("causal", causal_mask(max_len))

    def forward(self, tokens: Tensor, key_padding_mask: Tensor | None = None) -> Tensor:
        """tokens (B, L) int64, L <= max_len -> logits (B, L, vocab_size).

        x = token_embedding(tokens) + position_embedding(0..L-1); each block with the causal mask
        (and key_padding_mask, if given); then ln_f and head.
        """
        length = tokens.shape[1]
        x = self.token_embedding(tokens) + self.position_embedding.weight[:length]
        causal = self.causal[:length, :length]
        for block in self.blocks:
            x = block(x, key_padding_mask, causal)
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

    4 epochs of 40 steps of batch 128: Adam at 6e-3 after 20 steps of warm-up, a cosine decay to
    0, gradients clipped to a norm of 1.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = TinyTransformer().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=6e-3)
    epochs, steps = 4, 40
    total = epochs * steps

    def factor(step: int) -> float:
        return min(1.0, (step + 1) / 20) * 0.5 * (1 + math.cos(math.pi * step / total))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    losses: list[float] = []
    model.train()
    for epoch in range(epochs):
        epoch_losses = []
        for _ in range(steps):
            inputs, targets = (tensor.to(device) for tensor in sort_batch(128, generator))
            logits = model(inputs)
            loss = functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            epoch_losses.append(loss.detach())
        losses.append(torch.stack(epoch_losses).mean().item())
        log(f"epoch {epoch + 1}/{epochs}: mean loss {losses[-1]:.4f}")
    model.eval()
    return model, losses
