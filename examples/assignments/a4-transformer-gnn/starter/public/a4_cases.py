"""The inputs of A4's unit tests, drawn from fixed seeds on the CPU.

The autograder's driver gives these inputs (and weights) to your code; its grader draws the very
same ones outside the sandbox and computes the expected answers itself, with PyTorch's own
attention, nn.MultiheadAttention and autograd. Every case is a dict of float32 or int64 tensors;
every mask is boolean, True where attending is allowed (True at real tokens for padding).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Case = dict[str, Tensor]

# TinyTransformer() with its default sizes: every parameter's name and shape.
VOCAB_SIZE, MAX_LEN, D_MODEL, NUM_LAYERS, D_FF = 11, 16, 64, 2, 128


def transformer_shapes() -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "token_embedding.weight": (VOCAB_SIZE, D_MODEL),
        "position_embedding.weight": (MAX_LEN, D_MODEL),
    }
    for layer in range(NUM_LAYERS):
        block = f"blocks.{layer}."
        for norm in ("ln1", "ln2"):
            shapes[f"{block}{norm}.weight"] = shapes[f"{block}{norm}.bias"] = (D_MODEL,)
        shapes.update(_mha_shapes(D_MODEL, f"{block}attn."))
        shapes[f"{block}ff.0.weight"] = (D_FF, D_MODEL)
        shapes[f"{block}ff.0.bias"] = (D_FF,)
        shapes[f"{block}ff.2.weight"] = (D_MODEL, D_FF)
        shapes[f"{block}ff.2.bias"] = (D_MODEL,)
    shapes["ln_f.weight"] = shapes["ln_f.bias"] = (D_MODEL,)
    shapes["head.weight"] = (VOCAB_SIZE, D_MODEL)
    shapes["head.bias"] = (VOCAB_SIZE,)
    return shapes


def gcn_shapes(in_features: int, hidden: int, num_classes: int) -> dict[str, tuple[int, ...]]:
    return {
        "conv1.weight": (in_features, hidden),
        "conv1.bias": (hidden,),
        "conv2.weight": (hidden, num_classes),
        "conv2.bias": (num_classes,),
    }


def _mha_shapes(d_model: int, prefix: str = "") -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for projection in ("q_proj", "k_proj", "v_proj", "out_proj"):
        shapes[f"{prefix}{projection}.weight"] = (d_model, d_model)
        shapes[f"{prefix}{projection}.bias"] = (d_model,)
    return shapes


def _random_weights(shapes: dict[str, tuple[int, ...]], generator: torch.Generator) -> Case:
    weights = {}
    for name, shape in shapes.items():
        noise = torch.randn(shape, generator=generator)
        if "embedding" in name:
            weights[name] = noise
        elif name.endswith(".bias"):
            weights[name] = 0.1 * noise
        elif len(shape) == 1:  # a LayerNorm's gain
            weights[name] = 1 + 0.1 * noise
        else:
            weights[name] = noise / shape[-1] ** 0.5
    return weights


def _lengths_mask(lengths: list[int], max_len: int) -> Tensor:
    return torch.arange(max_len) < torch.tensor(lengths)[:, None]


def _normal(seed: int) -> Callable[..., Tensor]:
    """randn(*shape) drawing from its own generator seeded with ``seed``."""
    generator = torch.Generator().manual_seed(seed)

    def randn(*shape: int) -> Tensor:
        return torch.randn(shape, generator=generator)

    return randn


def attention_unmasked() -> list[Case]:
    """3-D and 4-D inputs with dv != d; then no batch dimension at all, three of them, a single
    query and key, and scores in the hundreds (where exp() overflows float32 unless each row's
    maximum is subtracted first)."""
    randn = _normal(4101)
    cases = [
        {"q": randn(2, 3, 6, 16), "k": randn(2, 3, 6, 16), "v": randn(2, 3, 6, 16)},
        {"q": randn(4, 5, 8), "k": randn(4, 9, 8), "v": randn(4, 9, 12)},
    ]
    randn = _normal(4106)
    return [
        *cases,
        {"q": randn(5, 8), "k": randn(7, 8), "v": randn(7, 3)},
        {"q": randn(2, 1, 3, 4, 8), "k": randn(2, 1, 3, 5, 8), "v": randn(2, 1, 3, 5, 6)},
        {"q": randn(1, 1, 4), "k": randn(1, 1, 4), "v": randn(1, 1, 5)},
        {"q": 12 * randn(3, 6, 8), "k": 12 * randn(3, 6, 8), "v": randn(3, 6, 8)},
    ]


def attention_masks() -> dict[str, Case]:
    """Masked attention: padding, causal and both (4-D); padding on 3-D cross-attention, the mask
    (B, 1, Lk); and both masks on scores in the hundreds. Rows 1 and 2 of the padding masks have
    a single real key."""
    generator = torch.Generator().manual_seed(4102)

    def qkv(batch: int, length: int) -> Case:
        return {name: torch.randn(batch, 2, length, 8, generator=generator) for name in "qkv"}

    padding = _lengths_mask([6, 3, 1, 5], 6)
    causal = torch.ones(7, 7, dtype=torch.bool).tril()
    randn = _normal(4107)
    return {
        "padding": {**qkv(4, 6), "mask": padding[:, None, None, :]},
        "causal": {**qkv(3, 7), "mask": causal},
        "both": {**qkv(4, 6), "mask": padding[:, None, None, :] & causal[:6, :6]},
        "cross_3d": {
            "q": randn(3, 5, 8),
            "k": randn(3, 6, 8),
            "v": randn(3, 6, 4),
            "mask": _lengths_mask([6, 2, 1], 6)[:, None, :],
        },
        "large": {
            "q": 12 * randn(3, 2, 6, 8),
            "k": 12 * randn(3, 2, 6, 8),
            "v": randn(3, 2, 6, 8),
            "mask": _lengths_mask([6, 1, 4], 6)[:, None, None, :] & causal[:6, :6],
        },
    }


def mask_functions() -> dict[str, list]:
    """The arguments of causal_mask (the lengths) and of padding_mask ((lengths, max_len), with
    max_len above the longest length too, and a batch of one)."""
    return {
        "causal_mask": [7, 1, 4],
        "padding_mask": [([6, 3, 1, 5], 6), ([2, 5, 1], 7), ([1], 1)],
    }


def multihead_attention() -> dict[str, Case]:
    """MultiHeadAttention(32, 4)'s weights and four cases: cross-attention with a key padding
    mask, causal self-attention with a key padding mask, self-attention with an attention mask
    alone, and one query in a batch of one without masks. A case with ``x`` is self-attention
    (query = key = value = x); ``grad_weights`` is the tensor the output is multiplied with before
    summing."""
    generator = torch.Generator().manual_seed(4103)

    def randn(*shape: int) -> Tensor:
        return torch.randn(shape, generator=generator)

    cases = {
        "weights": _random_weights(_mha_shapes(32), generator),
        "cross": {
            "query": randn(3, 5, 32),
            "key": randn(3, 7, 32),
            "value": randn(3, 7, 32),
            "key_padding_mask": _lengths_mask([7, 4, 2], 7),
            "grad_weights": randn(3, 5, 32),
        },
        "self_causal": {
            "x": randn(3, 6, 32),
            "key_padding_mask": _lengths_mask([6, 3, 5], 6),
            "attn_mask": torch.ones(6, 6, dtype=torch.bool).tril(),
            "grad_weights": randn(3, 6, 32),
        },
    }
    randn = _normal(4108)
    cases["self_attn_mask"] = {
        "x": randn(2, 5, 32),
        "attn_mask": torch.ones(5, 5, dtype=torch.bool).tril(),
        "grad_weights": randn(2, 5, 32),
    }
    cases["single"] = {
        "query": randn(1, 1, 32),
        "key": randn(1, 5, 32),
        "value": randn(1, 5, 32),
        "grad_weights": randn(1, 1, 32),
    }
    return cases


def transformer_forward() -> dict[str, Case]:
    """Weights for TinyTransformer(), full-length tokens, shorter padded tokens, a single token,
    and a batch of two whose first sequence is one token long."""
    generator = torch.Generator().manual_seed(4104)
    cases = {
        "weights": _random_weights(transformer_shapes(), generator),
        "full": {"tokens": torch.randint(0, VOCAB_SIZE, (4, MAX_LEN), generator=generator)},
        "padded": {
            "tokens": torch.randint(0, VOCAB_SIZE, (3, 10), generator=generator),
            "key_padding_mask": _lengths_mask([10, 7, 4], 10),
        },
    }
    generator = torch.Generator().manual_seed(4109)
    cases["single"] = {"tokens": torch.randint(0, VOCAB_SIZE, (1, 1), generator=generator)}
    cases["short_padded"] = {
        "tokens": torch.randint(0, VOCAB_SIZE, (2, 5), generator=generator),
        "key_padding_mask": _lengths_mask([1, 5], 5),
    }
    return cases


# GCN(5, hidden=16, num_classes=3, dropout=GCN_DROPOUT) is run in training mode.
GCN_DROPOUT = 0.25


def gcn() -> dict[str, Case]:
    """A 12-node graph (node 11 has no edges) and a one-node graph; GCNLayer(5, 3) and
    GCN(5, hidden=4, num_classes=3) weights and inputs; and GCN(5, 16, 3)'s weights and inputs for
    the dropout check."""
    generator = torch.Generator().manual_seed(4105)
    upper = (torch.rand(12, 12, generator=generator) < 0.3).float().triu(diagonal=1)
    adjacency = upper + upper.T
    adjacency[11, :] = adjacency[:, 11] = 0
    # Any symmetric matrix will do as a layer's propagation matrix.
    propagation = torch.rand(12, 12, generator=generator) / 6
    propagation = (propagation + propagation.T) / 2
    cases = {
        "graph": {"adjacency": adjacency},
        "layer": {
            **_random_weights({"weight": (5, 3), "bias": (3,)}, generator),
            "x": torch.randn(12, 5, generator=generator),
            "adj_norm": propagation,
            "grad_weights": torch.randn(12, 3, generator=generator),
        },
        "model_weights": _random_weights(gcn_shapes(5, 4, 3), generator),
        "model": {"x": torch.randn(12, 5, generator=generator), "adj_norm": propagation},
    }
    generator = torch.Generator().manual_seed(4110)
    cases["single_node"] = {"adjacency": torch.zeros(1, 1)}
    cases["dropout_weights"] = _random_weights(gcn_shapes(5, 16, 3), generator)
    cases["dropout"] = {"x": torch.randn(12, 5, generator=generator), "adj_norm": propagation}
    return cases
