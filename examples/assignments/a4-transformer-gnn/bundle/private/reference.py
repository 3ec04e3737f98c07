"""The trusted side's own A4 models: references for the unit tests and the architectures in which
the grader evaluates a hand-in's trained weights. Written with PyTorch's attention routines and in
float64, independently of the reference solution; never copied into the sandbox.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional

# The sorting task, as transformer.py's sort_batch draws it.
NUM_VALUES, NUM_DIGITS = 10, 8
SEP = NUM_VALUES
NUM_HEADS = 4


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """(output from F.scaled_dot_product_attention, weights) in float64."""
    q, k, v = q.double(), k.double(), v.double()
    output = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return output, scores.softmax(dim=-1)


def torch_multihead(weights: dict[str, Tensor], num_heads: int) -> nn.MultiheadAttention:
    """nn.MultiheadAttention (batch first, float64) holding the q/k/v/out projections given."""
    d_model = weights["q_proj.weight"].shape[0]
    module = nn.MultiheadAttention(d_model, num_heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        module.in_proj_weight.copy_(
            torch.cat([weights[f"{p}_proj.weight"] for p in "qkv"]).double()
        )
        module.in_proj_bias.copy_(torch.cat([weights[f"{p}_proj.bias"] for p in "qkv"]).double())
        module.out_proj.weight.copy_(weights["out_proj.weight"].double())
        module.out_proj.bias.copy_(weights["out_proj.bias"].double())
    return module


def multihead(
    module: nn.MultiheadAttention,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    key_padding_mask: Tensor | None = None,
    attn_mask: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """nn.MultiheadAttention with A4's masks (True = may attend), converted to its own (True =
    may not)."""
    return module(
        query,
        key,
        value,
        key_padding_mask=None if key_padding_mask is None else ~key_padding_mask,
        attn_mask=None if attn_mask is None else ~attn_mask,
        need_weights=True,
        average_attn_weights=True,
    )


def transformer_logits(
    weights: dict[str, Tensor],
    tokens: Tensor,
    key_padding_mask: Tensor | None = None,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """TinyTransformer's forward pass (pre-norm blocks, causal) with the given weights, computed
    in ``dtype``."""
    w = {name: value.to(dtype) for name, value in weights.items()}
    batch, length = tokens.shape
    x = w["token_embedding.weight"][tokens] + w["position_embedding.weight"][:length]
    mask = torch.ones(length, length, dtype=torch.bool).tril()
    if key_padding_mask is not None:
        mask = mask & key_padding_mask[:, None, None, :]
    layer = 0
    while f"blocks.{layer}.ln1.weight" in w:
        p = f"blocks.{layer}."

        def norm(x: Tensor, name: str, p: str = p) -> Tensor:
            return functional.layer_norm(
                x, x.shape[-1:], w[f"{p}{name}.weight"], w[f"{p}{name}.bias"]
            )

        def linear(x: Tensor, name: str, p: str = p) -> Tensor:
            return functional.linear(x, w[f"{p}{name}.weight"], w[f"{p}{name}.bias"])

        h = norm(x, "ln1")

        def heads(x: Tensor) -> Tensor:
            return x.view(batch, length, NUM_HEADS, -1).transpose(1, 2)

        q, k, v = (heads(linear(h, f"attn.{name}_proj")) for name in "qkv")
        attended = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + linear(attended.transpose(1, 2).reshape(batch, length, -1), "attn.out_proj")
        x = x + linear(functional.relu(linear(norm(x, "ln2"), "ff.0")), "ff.2")
        layer += 1
    x = functional.layer_norm(x, x.shape[-1:], w["ln_f.weight"], w["ln_f.bias"])
    return functional.linear(x, w["head.weight"], w["head.bias"])


def sort_sequences(count: int, seed: int) -> tuple[Tensor, Tensor]:
    """(inputs (count, 2n), targets (count, 2n) with -100 where nothing is predicted)."""
    generator = torch.Generator().manual_seed(seed)
    digits = torch.randint(0, NUM_VALUES, (count, NUM_DIGITS), generator=generator)
    full = torch.cat([digits, torch.full((count, 1), SEP), digits.sort(dim=1).values], dim=1)
    targets = full[:, 1:].clone()
    targets[:, : NUM_DIGITS - 1] = -100
    return full[:, :-1], targets


def normalized_adjacency(adjacency: Tensor) -> Tensor:
    a_hat = adjacency.double() + torch.eye(adjacency.shape[0], dtype=torch.float64)
    degree = a_hat.sum(dim=1)
    return a_hat / torch.sqrt(torch.outer(degree, degree))


def gcn_layer(weights: dict[str, Tensor], x: Tensor, adj_norm: Tensor, prefix: str = "") -> Tensor:
    return (
        adj_norm.double() @ x.double() @ weights[f"{prefix}weight"].double()
        + weights[f"{prefix}bias"].double()
    )


def gcn_logits(weights: dict[str, Tensor], x: Tensor, adj_norm: Tensor) -> Tensor:
    """The two-layer GCN in eval mode (no dropout)."""
    hidden = functional.relu(gcn_layer(weights, x, adj_norm, "conv1."))
    return gcn_layer(weights, hidden, adj_norm, "conv2.")
