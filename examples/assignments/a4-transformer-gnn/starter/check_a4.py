"""Checks your A4 locally, on the inputs the autograder uses (public/a4_cases.py).

    python check_a4.py            # unit checks, then both trainings
    python check_a4.py --quick    # unit checks only

The references here are PyTorch's own routines (allowed in this script, not in your hand-in).
This script is a help, not the autograder: the autograder also checks TinyTransformer's logits
against its own copy of the architecture, and scores your trained weights on held-out data that
only it has.
"""

from __future__ import annotations

import argparse
import time
import traceback
from collections.abc import Callable

import numpy as np
import torch
from public import a4_cases as cases
from torch import Tensor, nn
from torch.nn import functional

RTOL, ATOL = 1e-3, 1e-4


def close(what: str, got: Tensor, want: Tensor) -> None:
    got, want = got.detach().double(), want.detach().double()
    if got.shape != want.shape:
        raise AssertionError(f"{what}: shape {list(got.shape)}, expected {list(want.shape)}")
    if not torch.allclose(got, want, rtol=RTOL, atol=ATOL):
        worst = (got - want).abs().max().item()
        raise AssertionError(f"{what}: largest difference {worst:.3g}")


def load(module: nn.Module, weights: dict[str, Tensor]) -> None:
    """The autograder's way: the parameters must be exactly the given ones; buffers may differ."""
    names = {name for name, _ in module.named_parameters()}
    assert names == set(weights), (
        f"parameters missing: {sorted(set(weights) - names)}, unexpected: "
        f"{sorted(names - set(weights))}"
    )
    module.load_state_dict(weights, strict=False)


def reference_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None):
    output = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return output, scores.softmax(dim=-1)


def check_attention(transformer) -> None:
    for number, case in enumerate(cases.attention_unmasked()):
        got = transformer.scaled_dot_product_attention(case["q"], case["k"], case["v"])
        want = reference_attention(case["q"], case["k"], case["v"], None)
        close(f"unmasked case {number} output", got[0], want[0])
        close(f"unmasked case {number} weights", got[1], want[1])
    functions = cases.mask_functions()
    for length in functions["causal_mask"]:
        want = torch.ones(length, length, dtype=torch.bool).tril()
        assert torch.equal(transformer.causal_mask(length), want), f"causal_mask({length})"
    on_meta = transformer.causal_mask(5, "meta")
    assert on_meta.device.type == "meta", "causal_mask must make its mask on the given device"
    for lengths, max_len in functions["padding_mask"]:
        want = torch.arange(max_len) < torch.tensor(lengths)[:, None]
        got = transformer.padding_mask(torch.tensor(lengths), max_len)
        assert torch.equal(got, want), f"padding_mask({lengths}, {max_len})"
    for name, case in cases.attention_masks().items():
        got = transformer.scaled_dot_product_attention(
            case["q"], case["k"], case["v"], case["mask"]
        )
        want = reference_attention(case["q"], case["k"], case["v"], case["mask"])
        close(f"{name} mask output", got[0], want[0])
        close(f"{name} mask weights", got[1], want[1])
        masked = ~case["mask"].expand_as(got[1])
        assert torch.all(got[1][masked] == 0), f"{name} mask: masked weights must be exactly 0"


def check_multihead(transformer) -> None:
    all_cases = cases.multihead_attention()
    weights = all_cases["weights"]
    mine = transformer.MultiHeadAttention(32, 4)
    load(mine, weights)
    theirs = nn.MultiheadAttention(32, 4, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([weights[f"{p}_proj.weight"] for p in "qkv"]))
        theirs.in_proj_bias.copy_(torch.cat([weights[f"{p}_proj.bias"] for p in "qkv"]))
        theirs.out_proj.load_state_dict(
            {"weight": weights["out_proj.weight"], "bias": weights["out_proj.bias"]}
        )
    for name, case in all_cases.items():
        if name == "weights":
            continue
        # A mask the case does not give is left out, to its default.
        masks = {k: case[k] for k in ("key_padding_mask", "attn_mask") if k in case}
        answers = []
        for module, flip in ((mine, False), (theirs, True)):
            inputs = (
                [case["x"]] * 3 if "x" in case else [case[n] for n in ("query", "key", "value")]
            )
            inputs = [x.clone().requires_grad_() for x in inputs]
            given = {k: ~m if flip else m for k, m in masks.items()}
            output, attention = module(*inputs, **given)
            (output * case["grad_weights"]).sum().backward()
            answers.append([output, attention, *(x.grad for x in inputs)])
        for what, got, want in zip(
            ("output", "weights", "grad 1", "grad 2", "grad 3"), *answers, strict=True
        ):
            close(f"{name} {what}", got, want)


def check_transformer_shapes(transformer) -> None:
    all_cases = cases.transformer_forward()
    model = transformer.TinyTransformer()
    load(model, all_cases.pop("weights"))
    for name, case in all_cases.items():
        tokens = case["tokens"]
        logits = model.eval()(tokens, case.get("key_padding_mask"))
        shape = [*tokens.shape, 11]
        assert list(logits.shape) == shape, f"{name}: logits {list(logits.shape)}, not {shape}"
    print("    (only shapes here: the autograder compares the logits with its own copy)")


def check_gcn(gnn) -> None:
    all_cases = cases.gcn()
    for name in ("graph", "single_node"):
        adjacency = all_cases[name]["adjacency"]
        a_hat = adjacency + torch.eye(len(adjacency))
        degree = a_hat.sum(dim=1)
        want = a_hat / degree.outer(degree).sqrt()
        close(f"normalized_adjacency ({name})", gnn.normalized_adjacency(adjacency), want)
    in_float64 = gnn.normalized_adjacency(all_cases["graph"]["adjacency"].double())
    assert in_float64.dtype == torch.float64, "normalized_adjacency must keep the dtype"
    case = all_cases["layer"]
    layer = gnn.GCNLayer(5, 3)
    load(layer, {"weight": case["weight"], "bias": case["bias"]})
    x = case["x"].clone().requires_grad_()
    (layer(x, case["adj_norm"]) * case["grad_weights"]).sum().backward()
    x_ref = case["x"].clone().requires_grad_()
    expected = case["adj_norm"] @ x_ref @ case["weight"] + case["bias"]
    (expected * case["grad_weights"]).sum().backward()
    close("GCNLayer output", layer(case["x"], case["adj_norm"]), expected)
    assert x.grad is not None and x_ref.grad is not None
    close("GCNLayer gradient of x", x.grad, x_ref.grad)


def check_gcn_dropout(gnn) -> None:
    """What goes into conv2 in training mode: ReLU(conv1's output), then dropout."""
    all_cases = cases.gcn()
    rate = cases.GCN_DROPOUT
    model = gnn.GCN(5, hidden=16, num_classes=3, dropout=rate)
    load(model, all_cases["dropout_weights"])
    seen: dict[str, Tensor] = {}
    # Copies: an in-place ReLU or dropout may change these very tensors later in the pass.
    model.conv1.register_forward_hook(lambda module, args, out: seen.update(conv1=out.clone()))
    model.conv2.register_forward_pre_hook(
        lambda module, args, kwargs: seen.update(conv2=(args[0] if args else kwargs["x"]).clone()),
        with_kwargs=True,
    )
    with torch.no_grad():
        model.train()(all_cases["dropout"]["x"], all_cases["dropout"]["adj_norm"])
    assert set(seen) == {"conv1", "conv2"}, "GCN.forward must call self.conv1 and self.conv2"
    hidden, given = functional.relu(seen["conv1"]), seen["conv2"]
    dropped = given.abs() <= ATOL
    kept = torch.isclose(given, hidden / (1 - rate), rtol=RTOL, atol=ATOL)
    assert torch.all(dropped | kept), "conv2's input must be 0 or ReLU(conv1) / (1 - p)"
    share = dropped[hidden > ATOL].float().mean().item()
    print(f"    {share:.0%} of the hidden values dropped (dropout={rate})")


def train_sorter(transformer) -> None:
    started = time.monotonic()
    model, losses = transformer.train_sorter(seed=0, log=lambda line: None)
    print(f"    {time.monotonic() - started:.1f} s; loss per epoch:", *(f"{x:.3g}" for x in losses))
    inputs, targets = transformer.sort_batch(2000, torch.Generator().manual_seed(2024))
    with torch.no_grad():
        predictions = model.eval()(inputs).argmax(dim=-1)
    scored = targets != -100
    accuracy = (predictions[scored] == targets[scored]).float().mean().item()
    print(
        f"    token accuracy on fresh sequences, with your own model: {accuracy:.3f} (0.95 needed)"
    )


def train_gcn(gnn) -> None:
    def load(name: str) -> Tensor:
        return torch.from_numpy(np.load(f"public/karate_{name}.npy"))

    adjacency, nodes, labels = load("adjacency"), load("train_nodes"), load("train_labels")
    features = torch.eye(adjacency.shape[0])
    model, losses = gnn.train_gcn(adjacency, features, nodes, labels, seed=0, log=lambda line: None)
    again, _ = gnn.train_gcn(adjacency, features, nodes, labels, seed=0, log=lambda line: None)
    for (name, weight), (_, other) in zip(
        model.named_parameters(), again.named_parameters(), strict=True
    ):
        assert torch.allclose(weight, other), f"the same seed gave another {name}"
    print("    loss every 20 epochs:", *(f"{x:.3g}" for x in losses[::20]))
    with torch.no_grad():
        logits = model.eval()(features, gnn.normalized_adjacency(adjacency))
    loss = functional.cross_entropy(logits[nodes], labels).item()
    print(f"    loss on the labelled nodes in eval mode: {loss:.3f} (at most 0.25 needed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the two trainings")
    quick = parser.parse_args().quick
    torch.set_num_threads(1)  # as in the autograder; faster for models this small
    torch.manual_seed(0)
    import gnn
    import transformer

    checks: list[tuple[str, Callable[[], None]]] = [
        ("attention (unmasked and masked)", lambda: check_attention(transformer)),
        ("MultiHeadAttention vs nn.MultiheadAttention", lambda: check_multihead(transformer)),
        ("TinyTransformer loads the weights", lambda: check_transformer_shapes(transformer)),
        ("normalized_adjacency and GCNLayer", lambda: check_gcn(gnn)),
        ("GCN's dropout in training mode", lambda: check_gcn_dropout(gnn)),
    ]
    if not quick:
        checks += [("train_sorter", lambda: train_sorter(transformer))]
        checks += [("train_gcn", lambda: train_gcn(gnn))]
    for name, check in checks:
        print(f"{name} ...")
        try:
            check()
        except Exception:
            print(f"    FAILED\n{traceback.format_exc(limit=-2)}")
        else:
            print("    ok")


if __name__ == "__main__":
    main()
