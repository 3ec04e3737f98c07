"""Runs outside the sandbox: checks what driver.py wrote against references computed here.

The unit tests' inputs are drawn again from the bundle's own public/a4_cases.py (not the sandbox's
copy) and the expected answers come from PyTorch's attention, nn.MultiheadAttention and autograd
(private/reference.py). The trained models are judged by their weights alone: the grader loads them
into its own copy of each architecture and evaluates them on held-out data that exists only here
(sequences from a private seed, the karate club's test labels). Outputs are read only through
``outputs``, whose loaders cannot run code.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from grading.outputs import BadOutput

HERE = Path(__file__).resolve().parent
SORT_ACCURACY_NEEDED = 0.95
# The coarse bands a student sees for the sorter before the due date (its test is visible).
SORT_BANDS = (0.5, 0.8, SORT_ACCURACY_NEEDED)
KARATE_ACCURACY_NEEDED = 0.82
# A model that was really trained on the labelled nodes fits them; an untrained one is near ln 2.
KARATE_TRAIN_LOSS_LIMIT = 0.25
MAX_EPOCHS_SHOWN = 250
RTOL, ATOL = 1e-3, 1e-4


class Failed(Exception):
    """A test the submission did not pass; the message is what the student reads."""


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade(outputs, private, run):
    torch.set_num_threads(1)
    context = {
        "cases": _module("a4_cases", HERE / "public" / "a4_cases.py"),
        "reference": _module("a4_reference", private / "reference.py"),
        "private": private,
        "outputs": outputs,
    }
    checks = {
        "attention_unmasked": attention_unmasked,
        "attention_masks": attention_masks,
        "multihead_attention": multihead_attention,
        "transformer_forward": transformer_forward,
        "sorter_training": sorter_training,
        "gcn_normalization": gcn_normalization,
        "gcn_layer": gcn_layer,
        "karate_training": karate_training,
        "own_attention": own_attention,
    }
    results = []
    for name, check in checks.items():
        try:
            answer = _answer(outputs, name)
            message = check(answer, **context)
        except (BadOutput, Failed) as failure:
            results.append({"name": name, "score": 0, "status": "failed", "output": str(failure)})
        else:
            points = run["points"][name]
            results.append({"name": name, "score": points, "status": "passed", "output": message})
    return results


def _answer(outputs, name: str) -> dict:
    answer = outputs.json(f"{name}.json")
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise Failed(f"Your code raised an error:\n{error}")
    return answer


def _compare(outputs, test: str, name: str, expected: torch.Tensor, what: str) -> None:
    """out/<test>.<name>.npy must equal ``expected`` within the tolerance, or Failed says how."""
    got = outputs.npy(f"{test}.{name}.npy")
    want = expected.detach().double().numpy()
    if got.shape != want.shape:
        raise Failed(f"{what}: expected shape {list(want.shape)}, got {list(got.shape)}.")
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        raise Failed(f"{what}: holds NaN or infinite values.")
    if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
        worst = float(np.max(np.abs(got - want)))
        raise Failed(f"{what}: differs from the reference (largest difference {worst:.3g}).")


def _compare_mask(outputs, test: str, name: str, expected: torch.Tensor, what: str) -> None:
    got = outputs.npy(f"{test}.{name}.npy")
    want = expected.numpy()
    if got.shape != want.shape:
        raise Failed(f"{what}: expected shape {list(want.shape)}, got {list(got.shape)}.")
    if got.dtype != np.bool_:
        raise Failed(f"{what}: must be a bool tensor, not {got.dtype}.")
    if not np.array_equal(got, want):
        wrong = np.argwhere(got != want)[:3].tolist()
        raise Failed(f"{what}: wrong at positions {wrong} (True = may attend / real token).")


def attention_unmasked(answer, cases, reference, outputs, **_):
    for number, case in enumerate(cases.attention_unmasked()):
        output, weights = reference.attention(case["q"], case["k"], case["v"], None)
        shape = "x".join(str(size) for size in case["q"].shape)
        what = f"scaled_dot_product_attention on q of shape {shape}"
        _compare(outputs, "attention_unmasked", f"{number}.output", output, f"{what}, output")
        _compare(outputs, "attention_unmasked", f"{number}.weights", weights, f"{what}, weights")
    return "scaled_dot_product_attention matches torch's, outputs and weights."


def attention_masks(answer, cases, reference, outputs, **_):
    all_cases = cases.attention_masks()
    functions = all_cases.pop("functions")
    causal = torch.ones(7, 7, dtype=torch.bool).tril()
    _compare_mask(outputs, "attention_masks", "causal_mask", causal, "causal_mask(7)")
    lengths, max_len = functions["lengths"], int(functions["max_len"])
    padding = torch.arange(max_len) < lengths[:, None]
    _compare_mask(
        outputs, "attention_masks", "padding_mask", padding, f"padding_mask({lengths.tolist()}, 6)"
    )
    for name, case in all_cases.items():
        output, weights = reference.attention(case["q"], case["k"], case["v"], case["mask"])
        what = f"scaled_dot_product_attention with a {name} mask"
        _compare(outputs, "attention_masks", f"{name}.output", output, f"{what}, output")
        _compare(outputs, "attention_masks", f"{name}.weights", weights, f"{what}, weights")
    return "causal_mask, padding_mask and masked attention (padding, causal, both) are right."


def multihead_attention(answer, cases, reference, outputs, **_):
    all_cases = cases.multihead_attention()
    module = reference.torch_multihead(all_cases["weights"], num_heads=4)
    test = "multihead_attention"
    cross = {name: value.double() for name, value in all_cases["cross"].items()}
    inputs = [cross[name].requires_grad_() for name in ("query", "key", "value")]
    output, weights = reference.multihead(
        module, *inputs, key_padding_mask=all_cases["cross"]["key_padding_mask"]
    )
    (output * cross["grad_weights"]).sum().backward()
    what = "cross-attention with a key padding mask"
    _compare(outputs, test, "cross.output", output, f"{what}, output")
    _compare(outputs, test, "cross.weights", weights, f"{what}, weights averaged over heads")
    for name, tensor in zip(("query", "key", "value"), inputs, strict=True):
        _compare(outputs, test, f"cross.grad_{name}", tensor.grad, f"{what}, gradient of {name}")
    case = all_cases["self_causal"]
    x = case["x"].double().requires_grad_()
    output, weights = reference.multihead(
        module, x, x, x, key_padding_mask=case["key_padding_mask"], attn_mask=case["attn_mask"]
    )
    (output * case["grad_weights"].double()).sum().backward()
    what = "causal self-attention with a key padding mask"
    _compare(outputs, test, "self_causal.output", output, f"{what}, output")
    _compare(outputs, test, "self_causal.weights", weights, f"{what}, weights averaged over heads")
    _compare(outputs, test, "self_causal.grad_x", x.grad, f"{what}, gradient of x")
    return "MultiHeadAttention matches torch.nn.MultiheadAttention (outputs, weights, gradients)."


def transformer_forward(answer, cases, reference, outputs, **_):
    all_cases = cases.transformer_forward()
    weights = all_cases["weights"]
    with torch.no_grad():
        full = reference.transformer_logits(weights, all_cases["full"]["tokens"])
        padded = reference.transformer_logits(
            weights, all_cases["padded"]["tokens"], all_cases["padded"]["key_padding_mask"]
        )
    _compare(outputs, "transformer_forward", "full", full, "TinyTransformer's logits")
    _compare(
        outputs, "transformer_forward", "padded", padded, "TinyTransformer's logits with padding"
    )
    return "TinyTransformer computes what the specification says."


def _weights(outputs, name: str, shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """The trained weights in out/<name>.pt, checked to be exactly the architecture's."""
    weights = outputs.torch(f"{name}.pt")
    if not isinstance(weights, dict):
        raise Failed(f"out/{name}.pt does not hold a state_dict.")
    missing = sorted(set(shapes) - set(weights))
    extra = sorted(set(weights) - set(shapes))
    if missing or extra:
        raise Failed(
            f"The trained model's parameters are not the specified ones: missing {missing[:5]}, "
            f"unexpected {extra[:5]}."
        )
    for key, shape in shapes.items():
        value = weights[key]
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape:
            raise Failed(f"The trained model's {key} should have shape {list(shape)}.")
        if not value.is_floating_point() or not torch.isfinite(value).all():
            raise Failed(f"The trained model's {key} holds NaN, infinite or non-float values.")
    return weights


def _curve(answer: dict) -> tuple[list[float], str]:
    losses = answer.get("losses")
    if not isinstance(losses, list) or not losses or len(losses) > 100_000:
        raise Failed("The training function must return the loss of each epoch as a list.")
    if not all(isinstance(loss, int | float) and math.isfinite(loss) for loss in losses):
        raise Failed("The losses returned are not all finite numbers.")
    step = max(1, math.ceil(len(losses) / MAX_EPOCHS_SHOWN))
    shown = " ".join(f"{loss:.3g}" for loss in losses[::step])
    every = "per epoch" if step == 1 else f"every {step} epochs"
    return losses, f"training loss {every} ({len(losses)} epochs): {shown}"


def sorter_training(answer, cases, reference, private, outputs, **_):
    _, curve = _curve(answer)
    weights = _weights(outputs, "sorter_training", cases.transformer_shapes())
    heldout = json.loads((private / "heldout.json").read_text())
    inputs, targets = reference.sort_sequences(heldout["sort_sequences"], heldout["sort_seed"])
    with torch.no_grad():
        predictions = reference.transformer_logits(weights, inputs).argmax(dim=-1)
    scored = targets != -100
    accuracy = (predictions[scored] == targets[scored]).double().mean().item()
    print(f"sorter_training: held-out token accuracy {accuracy:.4f}")
    band = _band(accuracy)
    if accuracy < SORT_ACCURACY_NEEDED:
        raise Failed(
            f"{curve}\nYour trained TinyTransformer, run by the autograder's own copy of the "
            f"architecture, predicts {band} of the sorted digits of held-out sequences correctly; "
            f"at least {SORT_ACCURACY_NEEDED:.0%} is needed. (If transformer_forward fails, fix it "
            "first: your weights are evaluated in the specified architecture.)"
        )
    return f"{curve}\nHeld-out token accuracy: {band}."


def _band(accuracy: float) -> str:
    low = 0.0
    for high in SORT_BANDS:
        if accuracy < high:
            return f"{low:.0%} to {high:.0%}"
        low = high
    return f"at least {low:.0%}"


def gcn_normalization(answer, cases, reference, outputs, **_):
    adjacency = cases.gcn()["graph"]["adjacency"]
    expected = reference.normalized_adjacency(adjacency)
    _compare(
        outputs,
        "gcn_normalization",
        "adj_norm",
        expected,
        "normalized_adjacency on a 12-node graph with an isolated node",
    )
    return "normalized_adjacency computes D^-1/2 (A + I) D^-1/2."


def gcn_layer(answer, cases, reference, outputs, **_):
    all_cases = cases.gcn()
    case = {name: value.double() for name, value in all_cases["layer"].items()}
    weights = {"weight": case["weight"].requires_grad_(), "bias": case["bias"]}
    x = case["x"].requires_grad_()
    output = reference.gcn_layer(weights, x, case["adj_norm"])
    (output * case["grad_weights"]).sum().backward()
    _compare(outputs, "gcn_layer", "layer.output", output, "GCNLayer(5, 3)'s output")
    _compare(outputs, "gcn_layer", "layer.grad_x", x.grad, "GCNLayer(5, 3)'s gradient of x")
    _compare(
        outputs, "gcn_layer", "layer.grad_weight", weights["weight"].grad, "GCNLayer's weight.grad"
    )
    model = all_cases["model"]
    expected = reference.gcn_logits(all_cases["model_weights"], model["x"], model["adj_norm"])
    _compare(outputs, "gcn_layer", "model.output", expected, "GCN(5, 4, 3)'s logits in eval mode")
    return "GCNLayer and GCN compute what the specification says, gradients included."


def karate_training(answer, cases, reference, private, outputs, **_):
    _, curve = _curve(answer)
    adjacency = torch.from_numpy(np.load(HERE / "public" / "karate_adjacency.npy"))
    nodes = adjacency.shape[0]
    weights = _weights(outputs, "karate_training", cases.gcn_shapes(nodes, 16, 2))
    train_nodes = torch.from_numpy(np.load(HERE / "public" / "karate_train_nodes.npy"))
    train_labels = torch.from_numpy(np.load(HERE / "public" / "karate_train_labels.npy"))
    test_nodes = torch.from_numpy(np.load(HERE / "public" / "karate_test_nodes.npy"))
    test_labels = torch.from_numpy(np.load(private / "karate_test_labels.npy"))
    with torch.no_grad():
        logits = reference.gcn_logits(
            weights, torch.eye(nodes), reference.normalized_adjacency(adjacency)
        )
    train_loss = functional.cross_entropy(logits[train_nodes], train_labels).item()
    correct = int((logits[test_nodes].argmax(dim=1) == test_labels).sum())
    accuracy = correct / len(test_nodes)
    print(f"karate_training: test accuracy {accuracy:.4f}, train loss {train_loss:.4f}")
    result = (
        f"{curve}\nYour trained GCN, run by the autograder's own copy of the architecture: "
        f"{correct}/{len(test_nodes)} test nodes right ({accuracy:.1%}; "
        f"{KARATE_ACCURACY_NEEDED:.0%} needed), loss {train_loss:.3f} on the labelled nodes "
        f"(at most {KARATE_TRAIN_LOSS_LIMIT} needed)."
    )
    if accuracy < KARATE_ACCURACY_NEEDED or train_loss > KARATE_TRAIN_LOSS_LIMIT:
        raise Failed(result)
    return result


def own_attention(answer, outputs, **_):
    calls = answer.get("builtin_calls")
    if not isinstance(calls, dict):
        raise Failed("out/own_attention.json was not written by the autograder's driver.")
    used = [name for name, count in calls.items() if count]
    if used:
        raise Failed(
            f"Your code called PyTorch's attention routines ({', '.join(used)}); A4 asks you to "
            "write attention yourself."
        )
    for test in ("attention_unmasked", "multihead_attention"):
        try:
            _answer(outputs, test)
        except (BadOutput, Failed):
            raise Failed(
                "Your scaled_dot_product_attention and MultiHeadAttention must run first."
            ) from None
    return "Attention is your own code."
