"""A4, part 1: attention, multi-head attention and a tiny Transformer that learns to sort.

Every mask in this file is boolean and means the same thing: True where a query MAY attend to a
key, False where it must not. (torch.nn.MultiheadAttention uses the opposite convention for its
masks; do not let that confuse you.)

Write attention yourself: torch.nn.functional.scaled_dot_product_attention,
torch.nn.MultiheadAttention and torch.nn.functional.multi_head_attention_forward are not allowed
here (use them in your own tests to check your answers). Everything else in torch is fine.
Replace each `raise NotImplementedError` with your code; do not change the names, signatures or
the parameters created in the __init__ methods: the autograder loads its own weights into your
modules and evaluates your trained weights in its own copy of this architecture.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

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
    each query sum to 1 and are exactly 0 where the mask is False. Scores may reach the hundreds:
    the softmax must not overflow.
    """
    # TODO: scores, mask, softmax over the keys, weighted sum of the values.
    raise NotImplementedError


def causal_mask(length: int, device: torch.device | str | None = None) -> Tensor:
    """(length, length) bool on ``device``: position i may attend to positions 0..i only."""
    # TODO
    raise NotImplementedError


def padding_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B, max_len) bool, on lengths' device: True at the first lengths[b] positions of row b
    (the real tokens), False at the padding after them."""
    # TODO
    raise NotImplementedError


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
        # TODO: project, split into heads (B, num_heads, L, d_head), combine the masks so they
        # broadcast, call your scaled_dot_product_attention, merge the heads, out_proj.
        raise NotImplementedError


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
        # TODO
        raise NotImplementedError


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
        # TODO
        raise NotImplementedError


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

    Call torch.manual_seed(seed) first, so that two runs give the same model. An "epoch" is a
    fixed number of steps of your choice. Log one line per epoch with ``log``. Budget: at most
    30 seconds on one CPU core (about 300 steps of batch 128 with AdamW at a learning rate of a
    few 1e-3 suffice).
    """
    # TODO
    raise NotImplementedError
