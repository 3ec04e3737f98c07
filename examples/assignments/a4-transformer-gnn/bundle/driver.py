"""Runs inside the sandbox, beside the student's transformer.py and gnn.py: one output per test.

Each test runs on its own, so a function that raises (or a module that does not import) costs
only the tests that need it. Nothing here judges an answer: grader.py does, outside, from the same
seeded inputs (public/a4_cases.py) and from the trained weights written here.
"""

import os

# cuBLAS needs this before CUDA starts to compute deterministically (only used on a GPU worker).
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import importlib
import importlib.util
import json
import time
import traceback
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

OUT = Path("out")
SEED = 0
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True, warn_only=True)

# Loaded by path: a hand-in's own a4_cases.py must not stand in for the bundle's.
_spec = importlib.util.spec_from_file_location("a4_cases", "public/a4_cases.py")
assert _spec is not None and _spec.loader is not None
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)


def on_device(case):
    return {name: value.to(DEVICE) for name, value in case.items()}


def save(test, name, tensor):
    """out/<test>.<name>.npy, as float64 (or bool): the grader compares it with its reference."""
    value = tensor.detach().cpu()
    value = value if value.dtype == torch.bool else value.double()
    np.save(OUT / f"{test}.{name}.npy", value.numpy(), allow_pickle=False)


def save_weights(name, model):
    """The trained parameters (not buffers) in out/<name>.pt: the grader evaluates them itself."""
    weights = {key: value.detach().cpu().float() for key, value in model.named_parameters()}
    torch.save(weights, OUT / f"{name}.pt")


def load_weights(module, weights):
    """Gives ``module`` the grader's weights; its parameters must be exactly the specified ones
    (buffers of its own are left as they are)."""
    names = {name for name, _ in module.named_parameters()}
    if names != set(weights):
        raise ValueError(
            f"{type(module).__name__}'s parameters are not the specified ones: missing "
            f"{sorted(set(weights) - names)}, unexpected {sorted(names - set(weights))}"
        )
    module.load_state_dict(weights, strict=False)


# The hidden test own_attention: were PyTorch's attention routines used instead of the student's?
# They are wrapped before the hand-in is imported, so `from torch... import` gets the wrapper too.
BUILTIN_CALLS: dict[str, int] = {}


def _count_calls(owner, name, shown):
    function = getattr(owner, name)
    BUILTIN_CALLS[shown] = 0

    def wrapper(*args, **kwargs):
        BUILTIN_CALLS[shown] += 1
        return function(*args, **kwargs)

    setattr(owner, name, wrapper)


_count_calls(functional, "scaled_dot_product_attention", "F.scaled_dot_product_attention")
_count_calls(functional, "multi_head_attention_forward", "F.multi_head_attention_forward")
_count_calls(torch.nn.MultiheadAttention, "forward", "nn.MultiheadAttention")


def attention_unmasked(transformer):
    for number, case in enumerate(cases.attention_unmasked()):
        case = on_device(case)
        output, weights = transformer.scaled_dot_product_attention(case["q"], case["k"], case["v"])
        save("attention_unmasked", f"{number}.output", output)
        save("attention_unmasked", f"{number}.weights", weights)
    return {}


def attention_masks(transformer):
    functions = cases.mask_functions()
    for length in functions["causal_mask"]:
        save("attention_masks", f"causal_mask.{length}", transformer.causal_mask(length, DEVICE))
    for number, (lengths, max_len) in enumerate(functions["padding_mask"]):
        mask = transformer.padding_mask(torch.tensor(lengths, device=DEVICE), max_len)
        save("attention_masks", f"padding_mask.{number}", mask)
    # A tensor on the meta device has a device, a shape and a dtype but no values: a mask made on
    # the CPU whatever device it is asked for shows here, not only on a GPU worker.
    meta = transformer.causal_mask(5, "meta")
    on_meta = {"device": str(meta.device), "shape": list(meta.shape), "dtype": str(meta.dtype)}
    for name, case in cases.attention_masks().items():
        case = on_device(case)
        output, weights = transformer.scaled_dot_product_attention(
            case["q"], case["k"], case["v"], case["mask"]
        )
        save("attention_masks", f"{name}.output", output)
        save("attention_masks", f"{name}.weights", weights)
    return {"causal_mask_on_meta": on_meta}


def _masks(case):
    """The masks a case gives, as keyword arguments: one left out is left to its default."""
    return {name: case[name] for name in ("key_padding_mask", "attn_mask") if name in case}


def multihead_attention(transformer):
    all_cases = cases.multihead_attention()
    attention = transformer.MultiHeadAttention(32, 4)
    load_weights(attention, all_cases.pop("weights"))
    attention.to(DEVICE)
    for case_name, case in all_cases.items():
        case = on_device(case)
        names = ("x",) if "x" in case else ("query", "key", "value")
        inputs = {name: case[name].requires_grad_() for name in names}
        arguments = [inputs["x"]] * 3 if "x" in inputs else list(inputs.values())
        output, weights = attention(*arguments, **_masks(case))
        (output * case["grad_weights"]).sum().backward()
        save("multihead_attention", f"{case_name}.output", output)
        save("multihead_attention", f"{case_name}.weights", weights)
        for name, tensor in inputs.items():
            save("multihead_attention", f"{case_name}.grad_{name}", tensor.grad)
    return {}


def transformer_forward(transformer):
    all_cases = cases.transformer_forward()
    model = transformer.TinyTransformer()
    load_weights(model, all_cases.pop("weights"))
    model.to(DEVICE).eval()
    with torch.no_grad():
        for name, case in all_cases.items():
            case = on_device(case)
            save("transformer_forward", name, model(case["tokens"], **_masks(case)))
    return {}


def own_attention(transformer):
    return {"builtin_calls": dict(BUILTIN_CALLS)}


def gcn_normalization(gnn):
    all_cases = cases.gcn()
    adjacency = all_cases["graph"]["adjacency"].to(DEVICE)
    save("gcn_normalization", "adj_norm", gnn.normalized_adjacency(adjacency))
    single = all_cases["single_node"]["adjacency"].to(DEVICE)
    save("gcn_normalization", "single_node", gnn.normalized_adjacency(single))
    in_float64 = gnn.normalized_adjacency(adjacency.double())
    save("gcn_normalization", "float64", in_float64)
    return {"float64_dtype": str(in_float64.dtype)}


def gcn_layer(gnn):
    all_cases = cases.gcn()
    case = on_device(all_cases["layer"])
    layer = gnn.GCNLayer(5, 3)
    load_weights(layer, {"weight": case["weight"], "bias": case["bias"]})
    layer.to(DEVICE)
    x = case["x"].requires_grad_()
    output = layer(x, case["adj_norm"])
    (output * case["grad_weights"]).sum().backward()
    save("gcn_layer", "layer.output", output)
    save("gcn_layer", "layer.grad_x", x.grad)
    save("gcn_layer", "layer.grad_weight", layer.weight.grad)
    save("gcn_layer", "layer.grad_bias", layer.bias.grad)
    model = gnn.GCN(5, hidden=4, num_classes=3)
    load_weights(model, all_cases["model_weights"])
    model.to(DEVICE).eval()
    case = on_device(all_cases["model"])
    with torch.no_grad():
        save("gcn_layer", "model.output", model(case["x"], case["adj_norm"]))
    return {}


def gcn_dropout(gnn):
    """GCN in training mode, watched through hooks on the layers it really calls: what conv1
    returned and what conv2 was given (the last call of each)."""
    all_cases = cases.gcn()
    model = gnn.GCN(5, hidden=16, num_classes=3, dropout=cases.GCN_DROPOUT)
    load_weights(model, all_cases["dropout_weights"])
    model.to(DEVICE).train()
    case = on_device(all_cases["dropout"])
    seen = {}

    # Copies: an in-place ReLU or dropout may change these very tensors later in the pass.
    def after_conv1(module, args, output):
        seen["conv1_output"] = output.detach().clone()

    def before_conv2(module, args, kwargs):
        seen["conv2_input"] = (args[0] if args else kwargs["x"]).detach().clone()

    hooks = [
        model.conv1.register_forward_hook(after_conv1),
        model.conv2.register_forward_pre_hook(before_conv2, with_kwargs=True),
    ]
    with torch.no_grad():
        output = model(case["x"], case["adj_norm"])
    for hook in hooks:
        hook.remove()
    for name, tensor in seen.items():
        save("gcn_dropout", name, tensor)
    save("gcn_dropout", "output", output)
    return {"seen": sorted(seen)}


def _karate():
    def load(name):
        return torch.from_numpy(np.load(f"public/karate_{name}.npy", allow_pickle=False))

    adjacency = load("adjacency")
    return adjacency, torch.eye(adjacency.shape[0]), load("train_nodes"), load("train_labels")


def karate_training(gnn):
    started = time.monotonic()
    model, losses = gnn.train_gcn(*_karate(), seed=SEED, device=DEVICE)
    seconds = time.monotonic() - started
    save_weights("karate_training", model)
    return {"losses": [float(loss) for loss in losses], "seconds": seconds}


def seeded_training(gnn):
    """train_gcn twice with the same seed, from two different states of the global generator."""
    for run_number in (1, 2):
        torch.manual_seed(SEED + run_number)
        model, _ = gnn.train_gcn(*_karate(), seed=SEED, device=DEVICE)
        save_weights(f"seeded_training.{run_number}", model)
    return {}


def sorter_training(transformer):
    started = time.monotonic()
    model, losses = transformer.train_sorter(seed=SEED, device=DEVICE)
    seconds = time.monotonic() - started
    save_weights("sorter_training", model)
    return {"losses": [float(loss) for loss in losses], "seconds": seconds}


def run(name, module, test):
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    try:
        answer = {"ok": True, **test(importlib.import_module(module))}
    except (Exception, SystemExit):
        answer = {"ok": False, "error": traceback.format_exc(limit=-4)}
    (OUT / f"{name}.json").write_text(json.dumps(answer))


(OUT / "device.json").write_text(json.dumps({"device": DEVICE, "cuda": torch.cuda.is_available()}))
# The quick tests first and the longest training last: a run out of time loses only that one.
TESTS = (
    ("attention_unmasked", "transformer", attention_unmasked),
    ("attention_masks", "transformer", attention_masks),
    ("multihead_attention", "transformer", multihead_attention),
    ("transformer_forward", "transformer", transformer_forward),
    ("own_attention", "transformer", own_attention),
    ("gcn_normalization", "gnn", gcn_normalization),
    ("gcn_layer", "gnn", gcn_layer),
    ("gcn_dropout", "gnn", gcn_dropout),
    ("karate_training", "gnn", karate_training),
    ("seeded_training", "gnn", seeded_training),
    ("sorter_training", "transformer", sorter_training),
    # Again, to count calls made while training too; the first one survives a run out of time.
    ("own_attention", "transformer", own_attention),
)
for test_name, module_name, test_function in TESTS:
    print(f"--- {test_name} ---", flush=True)
    run(test_name, module_name, test_function)
