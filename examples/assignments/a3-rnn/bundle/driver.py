"""Runs inside the sandbox, beside the student's rnn.py: writes what each test needs to out/.

Each part runs on its own, so a function that raises (or an rnn.py that does not even import)
costs only the tests that call it. Nothing here judges an answer: grader.py does, outside, from
inputs it rebuilds itself (public/cases.py) and data the sandbox never sees. The language model
part writes the trained weights to out/model.pt; the grader scores them on held-out text.

Two things only this process can see are reported too, for honest hand-ins (code that runs here
could forge them, which is why the grader gives no points on them alone): which of the torch
shortcuts the README forbids a part used, and where the training run's chunks started from.
"""

import os

# Before torch starts CUDA: deterministic cuBLAS when the bundle runs on a GPU worker.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import contextlib
import importlib
import inspect
import json
import random
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path("public").resolve()))
import cases

OUT = Path("out")
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
LM_SEED = 0
# The README's rules forbid these; each use during a part is recorded in its answer.
FORBIDDEN_FUNCTIONS = ("clip_grad_norm_", "clip_grad_norm")
FORBIDDEN_MODULES = ("LSTM", "LSTMCell", "RNN")
forbidden_used: set[str] = set()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def floats(array):
    return np.asarray(array, dtype=np.float64).tolist()


def tensor_floats(tensor):
    return floats(tensor.detach().to("cpu", torch.float64).numpy())


def watch_forbidden_shortcuts():
    """Puts stand-ins in place of the torch functions and modules the rules forbid, before the
    hand-in is imported (so that ``from torch.nn.utils import clip_grad_norm_`` gets one too).
    They work as the originals do, so a hand-in that uses one loses only the tests of the
    function it should have written, not everything that calls it."""

    def recording(name, function):
        def stand_in(*args, **kwargs):
            forbidden_used.add(f"torch.nn.utils.{name}")
            return function(*args, **kwargs)

        return stand_in

    for name in FORBIDDEN_FUNCTIONS:
        stand_in = recording(name, getattr(torch.nn.utils.clip_grad, name))
        for module in (torch.nn.utils, torch.nn.utils.clip_grad):
            setattr(module, name, stand_in)
    for name in FORBIDDEN_MODULES:
        original = getattr(torch.nn.modules.rnn, name)

        def __init__(self, *args, _original=original, _name=f"torch.nn.{name}", **kwargs):
            forbidden_used.add(_name)
            _original.__init__(self, *args, **kwargs)

        stand_in = type(name, (original,), {"__init__": __init__})
        for module in (torch.nn, torch.nn.modules, torch.nn.modules.rnn):
            setattr(module, name, stand_in)


@contextlib.contextmanager
def autograd_forbidden():
    """The NumPy part computes gradients by hand: autograd raises while it runs."""

    def refuse(*args, **kwargs):
        raise RuntimeError(
            "autograd is switched off for the NumPy part: compute the gradients by hand."
        )

    saved = torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad
    torch.Tensor.backward = torch.autograd.backward = torch.autograd.grad = refuse
    try:
        yield
    finally:
        torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = saved


def sequence_run(rnn, kind, spec, *, backward):
    seed, n, t, d, h = spec
    case = cases.sequence(seed, n, t, d, h, gates=1 if kind == "rnn" else 4)
    inputs = [case[name].copy() for name in ("x", "h0", "Wx", "Wh", "b")]
    with autograd_forbidden():
        hidden, cache = getattr(rnn, f"{kind}_forward")(*inputs)
        answer = {"h": floats(hidden)}
        if backward:
            grads = getattr(rnn, f"{kind}_backward")(case["dh"].copy(), cache)
            if len(grads) != 5:
                raise ValueError(f"{kind}_backward must return 5 arrays, not {len(grads)}.")
            answer.update(zip(("dx", "dh0", "dWx", "dWh", "db"), map(floats, grads), strict=True))
    return answer


def rnn_forward(rnn):
    return sequence_run(rnn, "rnn", cases.SEQUENCES["rnn"], backward=False)


def rnn_backward(rnn):
    return sequence_run(rnn, "rnn", cases.SEQUENCES["rnn"], backward=True)


def lstm_forward(rnn):
    return sequence_run(rnn, "lstm", cases.SEQUENCES["lstm"], backward=False)


def lstm_backward(rnn):
    return sequence_run(rnn, "lstm", cases.SEQUENCES["lstm"], backward=True)


def backward_more_shapes(rnn):
    return {
        name: sequence_run(rnn, name.split("_")[0], spec, backward=True)
        for name, spec in cases.MORE_SHAPES.items()
    }


def clip_grad_norm(rnn):
    answer = {}
    for name, spec in cases.CLIP.items():
        case = cases.clip(*spec)
        parameters = [torch.zeros(shape, requires_grad=True) for shape in cases.CLIP_SHAPES]
        for parameter, grad in zip(parameters[:-1], case["grads"], strict=True):
            parameter.grad = torch.from_numpy(grad.copy())
        total = rnn.clip_grad_norm_(iter(parameters), case["max_norm"])
        answer[name] = {
            "total_norm": float(total),
            "grads": [tensor_floats(p.grad) for p in parameters[:-1]],
            "last_grad_is_none": parameters[-1].grad is None,
        }
    return answer


def lstm_cell(rnn):
    _, _, t, d, h = cases.CELL
    case = cases.cell(*cases.CELL)
    cell = rnn.LSTMCell(d, h)
    weights = {name: torch.from_numpy(case[name]) for name in ("weight_ih", "weight_hh", "bias")}
    cell.load_state_dict(weights)
    state = torch.from_numpy(case["h0"]), torch.from_numpy(case["c0"])
    hs, cs = [], []
    with torch.no_grad():
        for step in range(t):
            state = cell(torch.from_numpy(np.ascontiguousarray(case["x"][:, step])), state)
            hs.append(state[0])
            cs.append(state[1])
    return {"h": tensor_floats(torch.stack(hs, dim=1)), "c": tensor_floats(torch.stack(cs, dim=1))}


def char_lstm_model(rnn):
    """The hand-in's CharLSTM with the weights of the CHAR_LSTM case."""
    _, _, _, e, h = cases.CHAR_LSTM
    case = cases.char_lstm(*cases.CHAR_LSTM)
    model = rnn.CharLSTM(len(cases.VOCAB), e, h)
    model.load_state_dict({name: torch.from_numpy(w) for name, w in case["state_dict"].items()})
    return model, case


def char_lstm(rnn):
    model, case = char_lstm_model(rnn)
    logits, (h_last, c_last) = model(torch.from_numpy(case["ids"]))
    (logits * torch.from_numpy(case["dlogits"])).sum().backward()
    return {
        "logits": tensor_floats(logits),
        "h": tensor_floats(h_last),
        "c": tensor_floats(c_last),
        "grads": {
            name: None if p.grad is None else tensor_floats(p.grad)
            for name, p in model.named_parameters()
        },
    }


def char_lstm_state(rnn):
    """CharLSTM.forward from a given non-zero state: the whole sequence at once, then in two
    chunks (T - 1 characters, then 1) with the returned state passed on, then a batch of one,
    one character long. Each call gets tensors of its own, in case forward changes them."""
    model, case = char_lstm_model(rnn)
    _, n, _, _, h = cases.CHAR_LSTM
    start = cases.start_state(cases.CHAR_LSTM_START, n, h)
    ids = torch.from_numpy(case["ids"])

    def given(rows=slice(None)):
        return tuple(torch.from_numpy(start[name][rows].copy()) for name in ("h0", "c0"))

    def answer(logits, state):
        return {
            "logits": tensor_floats(logits),
            "h": tensor_floats(state[0]),
            "c": tensor_floats(state[1]),
        }

    with torch.no_grad():
        whole = answer(*model(ids, given()))
        first_logits, carried = model(ids[:, :-1], given())
        carried = tuple(s.clone() for s in carried)
        last_logits, (h_last, c_last) = model(ids[:, -1:], carried)
        one = answer(*model(ids[:1, :1].clone(), given(slice(0, 1))))
    chunks = {
        "first_logits": tensor_floats(first_logits),
        "last_logits": tensor_floats(last_logits),
        "h": tensor_floats(h_last),
        "c": tensor_floats(c_last),
    }
    return {"whole": whole, "chunks": chunks, "one": one}


class ChunkStarts:
    """Watches the LSTMCell steps of a training run for where its chunks start.

    A step with autograd on whose incoming (h, c) has no graph starts a chunk (within a chunk,
    the state comes out of the step before and carries its graph). The chunk starts ``fresh``
    from zeros, ``carried`` from exactly the (h, c) the step before it returned, cut from its
    graph, as truncated BPTT does, or from some ``other`` state.
    """

    def __init__(self):
        self.counts = {"steps": 0, "fresh": 0, "carried": 0, "other": 0}
        self.previous = None

    def step(self, state, returned):
        self.counts["steps"] += 1
        try:
            h, c = state
            starts = h.grad_fn is None and c.grad_fn is None
            if starts:
                self.counts[self.kind(h, c)] += 1
            self.previous = tuple(s.detach() for s in returned)
        except (TypeError, ValueError, AttributeError, RuntimeError):
            self.previous = None

    def kind(self, h, c):
        if not (h.any() or c.any()):
            return "fresh"
        previous = self.previous
        if previous is not None and all(
            a.shape == b.shape and a.device == b.device and torch.equal(a, b)
            for a, b in zip((h, c), previous, strict=True)
        ):
            return "carried"
        return "other"


@contextlib.contextmanager
def chunk_starts_watched(rnn):
    watch = ChunkStarts()
    forward = rnn.LSTMCell.forward
    signature = inspect.signature(forward)

    def watched(cell, *args, **kwargs):
        returned = forward(cell, *args, **kwargs)
        if torch.is_grad_enabled():
            # forward(self, x, state), whatever the hand-in calls them and however it passes them
            arguments = list(signature.bind(cell, *args, **kwargs).arguments.values())
            watch.step(arguments[2] if len(arguments) > 2 else None, returned)
        return returned

    rnn.LSTMCell.forward = watched
    try:
        yield watch
    finally:
        rnn.LSTMCell.forward = forward


def language_model(rnn):
    text = Path("public/train.txt").read_text(encoding="utf-8")
    seed_everything(LM_SEED)
    started = time.monotonic()
    with chunk_starts_watched(rnn) as watch:
        model, losses = rnn.train_language_model(text, cases.VOCAB, device=DEVICE, seed=LM_SEED)
    seconds = time.monotonic() - started
    weights = {
        name: value.detach().to("cpu", torch.float32).contiguous()
        for name, value in model.state_dict().items()
    }
    torch.save(weights, OUT / "model.pt")
    return {
        "losses": [float(loss) for loss in losses],
        "seconds": round(seconds, 2),
        "chunk_starts": watch.counts,
    }


def error_report():
    """The exception being handled, with the frames of the student's code only: the driver's
    and the libraries' frames tell a student nothing."""
    kind, error, trace = sys.exc_info()
    frames = [
        frame
        for frame in traceback.extract_tb(trace)
        if frame.filename.startswith(str(Path.cwd())) and Path(frame.filename).name != "driver.py"
    ]
    lines = traceback.format_exception_only(kind, error)
    if frames:
        lines = [
            "Traceback (most recent call last):\n",
            *traceback.format_list(frames[-6:]),
            *lines,
        ]
    return "".join(lines)


def main():
    watch_forbidden_shortcuts()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=True)
    (OUT / "device.json").write_text(
        json.dumps({"device": DEVICE, "cuda": torch.cuda.is_available()})
    )
    parts = (
        rnn_forward,
        rnn_backward,
        lstm_forward,
        lstm_backward,
        backward_more_shapes,
        clip_grad_norm,
        lstm_cell,
        char_lstm,
        char_lstm_state,
        language_model,
    )
    for part in parts:
        seed_everything(0)
        forbidden_used.clear()
        try:
            answer = {"ok": True, **part(importlib.import_module("rnn"))}
            answer["forbidden"] = sorted(forbidden_used)
        except (Exception, SystemExit):
            answer = {"ok": False, "error": error_report()}
        (OUT / f"{part.__name__}.json").write_text(json.dumps(answer))
        print(f"{part.__name__}: {'done' if answer['ok'] else 'raised an error'}", flush=True)


main()
