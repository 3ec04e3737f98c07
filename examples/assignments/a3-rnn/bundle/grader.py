"""Runs outside the sandbox: scores what driver.py wrote for A3 (RNNs and LSTMs).

Nothing the sandbox wrote is taken on trust. The unit tests' inputs are rebuilt here from the
seeds in public/cases.py (this bundle's own copy, not the sandbox's), and the references are
computed here with PyTorch autograd. The language model is judged by its
weights: they are loaded with the safe loader into the reference architecture below
(torch.nn.LSTM, the same gate order and layout as the student's LSTMCell) and scored on held-out
text in private/. What the driver saw of the training run (where its chunks started) can only
take points away: a forged report gains nothing without weights that score.
"""

import importlib.util
import math
import traceback
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grading.outputs import BadOutput

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("a3_cases", HERE / "public" / "cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

NUMPY_TOLERANCE = {"rtol": 1e-5, "atol": 1e-7}  # float64 in, float64 expected
TORCH_TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}  # float32 student code against float64 reference
# lm_trains: about what a model of letter pairs reaches on the held-out text.
COARSE_PERPLEXITY = 12.0
# heldout_perplexity: full points at or below FULL, none at or above ZERO, linear in between.
# The reference solution scores about 7.0 on CPU.
FULL_PERPLEXITY = 8.5
ZERO_PERPLEXITY = 12.0
MAX_WIDTH = 1024  # the largest embedding or hidden size the grader evaluates
SAMPLE_PROMPT = "Alice "
SAMPLE_LENGTH = 160
SAMPLE_TEMPERATURE = 0.8
GRADIENTS = ("dx", "dh0", "dWx", "dWh", "db")
FORBIDDEN_CLIP = ("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_norm")
FORBIDDEN_MODULES = ("torch.nn.LSTM", "torch.nn.LSTMCell", "torch.nn.RNN")


class Failed(Exception):
    """A test the submission did not pass; the message is what the student reads."""


def grade(outputs, private, run):
    torch.set_num_threads(1)
    language_model = LanguageModelResult(outputs, private)
    checks = {
        "rnn_forward": ("rnn_forward.json", lambda a: sequence_test(a, "rnn", backward=False)),
        "rnn_backward": ("rnn_backward.json", lambda a: sequence_test(a, "rnn", backward=True)),
        "lstm_forward": ("lstm_forward.json", lambda a: sequence_test(a, "lstm", backward=False)),
        "lstm_backward": ("lstm_backward.json", lambda a: sequence_test(a, "lstm", backward=True)),
        "backward_more_shapes": ("backward_more_shapes.json", backward_more_shapes),
        "clip_grad_norm": ("clip_grad_norm.json", clip_grad_norm),
        "lstm_cell": ("lstm_cell.json", lstm_cell),
        "char_lstm": ("char_lstm.json", char_lstm),
        "char_lstm_state": ("char_lstm_state.json", char_lstm_state),
        "lm_trains": ("language_model.json", lambda a: lm_trains(language_model)),
        "heldout_perplexity": (
            "language_model.json",
            lambda a: heldout_perplexity(language_model),
        ),
    }
    results = []
    for name, (output_name, check) in checks.items():
        points = run["points"][name]
        try:
            fraction, message = check(driver_answer(outputs, output_name))
        except BadOutput as failure:
            fraction, message = 0.0, failure.message
        except Failed as failure:
            fraction, message = 0.0, str(failure)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            traceback.print_exc()  # to the logs, for staff: a malformed output or a grader bug
            fraction, message = 0.0, f"out/{output_name} is not what driver.py writes."
        results.append(
            {
                "name": name,
                "score": round(points * fraction, 4),
                "status": "passed" if fraction >= 1 else "failed",
                "output": message,
            }
        )
    return results


def driver_answer(outputs, name):
    answer = outputs.json(name)
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise Failed(f"Your code raised an error:\n{error}")
    return answer


def refuse_forbidden(answer, names, what):
    """Fails the test when the part the driver ran for it used one of ``names``."""
    used = [name for name in answer["forbidden"] if name in names]
    if used:
        raise Failed(
            f"{what} used {', '.join(used)}, which the rules of this assignment forbid: "
            "write it yourself."
        )


# ---------------------------------------------------------------------------------------------
# Comparing arrays
# ---------------------------------------------------------------------------------------------


def mismatch(name, got, expected, tolerance):
    """Why ``got`` is not ``expected`` (a sentence), or None when it is."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        return f"{name} has shape {got.shape}; it should be {expected.shape}."
    if not np.all(np.isfinite(got)):
        return f"{name} holds NaN or infinite values."
    if np.allclose(got, expected, **tolerance):
        return None
    largest = float(np.max(np.abs(got - expected)))
    message = f"{name} differs from the reference (largest difference {largest:.3g})"
    if got.ndim == 3 and got.shape[1] > 1:
        # Sequences (N, T, ...): which time steps are wrong is the best hint for BPTT.
        wrong = [
            t
            for t in range(got.shape[1])
            if not np.allclose(got[:, t], expected[:, t], **tolerance)
        ]
        message += f"; wrong at time steps {wrong} of 0..{got.shape[1] - 1}"
    return message + "."


def mismatches(answer, expected, tolerance):
    return [
        problem
        for name, value in expected.items()
        if (problem := mismatch(name, answer[name], value, tolerance))
    ]


# ---------------------------------------------------------------------------------------------
# Part 1: the NumPy RNN and LSTM, against autograd
# ---------------------------------------------------------------------------------------------


def reference_sequence(kind, spec):
    """h and the five gradients of sum(h * dh) for the case ``spec``, by autograd in float64."""
    seed, n, t, d, h = spec
    case = cases.sequence(seed, n, t, d, h, gates=1 if kind == "rnn" else 4)
    inputs = [torch.tensor(case[name], requires_grad=True) for name in ("x", "h0", "Wx", "Wh", "b")]
    x, h0, Wx, Wh, b = inputs
    hidden, cell, states = h0, torch.zeros_like(h0), []
    for step in range(t):
        a = x[:, step] @ Wx + hidden @ Wh + b
        if kind == "rnn":
            hidden = torch.tanh(a)
        else:
            i, f, g, o = a.split(h, dim=1)
            cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
            hidden = torch.sigmoid(o) * torch.tanh(cell)
        states.append(hidden)
    states = torch.stack(states, dim=1)
    grads = torch.autograd.grad((states * torch.tensor(case["dh"])).sum(), inputs)
    expected = {"h": states.detach().numpy()}
    expected.update(zip(GRADIENTS, (grad.numpy() for grad in grads), strict=True))
    return expected


def sequence_test(answer, kind, *, backward):
    expected = reference_sequence(kind, cases.SEQUENCES[kind])
    if not backward:
        problem = mismatch("h", answer["h"], expected["h"], NUMPY_TOLERANCE)
        if problem:
            raise Failed(f"{kind}_forward: {problem}")
        return 1.0, f"{kind}_forward matches the reference: h of shape {expected['h'].shape}."
    del expected["h"]
    problems = mismatches(answer, expected, NUMPY_TOLERANCE)
    if problems:
        right = [name for name in GRADIENTS if not any(p.startswith(name + " ") for p in problems)]
        raise Failed(
            f"{kind}_backward: the gradients of sum(h * dh) do not match autograd's.\n"
            + "\n".join(problems)
            + (f"\nThese match: {', '.join(right)}." if right else "")
        )
    return 1.0, f"{kind}_backward: dx, dh0, dWx, dWh and db all match autograd."


def backward_more_shapes(answer):
    problems = []
    for name, spec in cases.MORE_SHAPES.items():
        kind = name.split("_")[0]
        case_problems = mismatches(answer[name], reference_sequence(kind, spec), NUMPY_TOLERANCE)
        problems += [f"{name} (N, T, D, H = {spec[1:]}): {p}" for p in case_problems]
    if problems:
        raise Failed("\n".join(problems))
    return 1.0, "Forward and backward match on T = 1, N = 1 and on T = 30 with D != H."


# ---------------------------------------------------------------------------------------------
# Part 2: gradient clipping, the LSTM cell and the character model
# ---------------------------------------------------------------------------------------------


def clip_grad_norm(answer):
    refuse_forbidden(answer, FORBIDDEN_CLIP, "Your clip_grad_norm_")
    problems = []
    for name, spec in cases.CLIP.items():
        case = cases.clip(*spec)
        grads = [g.astype(np.float64) for g in case["grads"]]
        total = math.sqrt(sum(float((g**2).sum()) for g in grads))
        scale = min(1.0, case["max_norm"] / total)
        got = answer[name]
        where = f"gradients of global norm {total:.3g}, max_norm {case['max_norm']}"
        if not math.isclose(float(got["total_norm"]), total, rel_tol=1e-4):
            problems.append(
                f"{where}: returned {got['total_norm']!r}; the global norm before clipping is "
                f"{total:.6g}."
            )
        clipped = [np.asarray(g, dtype=np.float64) for g in got["grads"]]
        pairs = list(zip(clipped, grads, strict=True))
        if any(c.shape != g.shape for c, g in pairs):
            problems.append(f"{where}: the gradients changed shape.")
        elif not all(np.allclose(c, g * scale, **TORCH_TOLERANCE) for c, g in pairs):
            factors = ", ".join(f"{np.linalg.norm(c) / np.linalg.norm(g):.3g}" for c, g in pairs)
            problems.append(
                f"{where}: every gradient should be scaled by the same factor {scale:.3g}; "
                f"yours were scaled by {factors}."
            )
        if got["last_grad_is_none"] is not True:
            problems.append(f"{where}: a parameter whose .grad is None must keep it None.")
    if problems:
        raise Failed("clip_grad_norm_:\n" + "\n".join(problems))
    return 1.0, "clip_grad_norm_ scales by the global norm, and only when it is above max_norm."


def lstm_step(x, state, weight_ih, weight_hh, bias):
    hidden, cell = state
    i, f, g, o = (x @ weight_ih.T + hidden @ weight_hh.T + bias).chunk(4, dim=1)
    cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(cell), cell


def lstm_cell(answer):
    refuse_forbidden(answer, FORBIDDEN_MODULES, "Your LSTMCell")
    t = cases.CELL[2]
    case = {
        name: torch.tensor(value, dtype=torch.float64)
        for name, value in cases.cell(*cases.CELL).items()
    }
    state = case["h0"], case["c0"]
    hs, cs = [], []
    for step in range(t):
        state = lstm_step(
            case["x"][:, step], state, case["weight_ih"], case["weight_hh"], case["bias"]
        )
        hs.append(state[0])
        cs.append(state[1])
    expected = {"h": torch.stack(hs, dim=1).numpy(), "c": torch.stack(cs, dim=1).numpy()}
    problems = mismatches(answer, expected, TORCH_TOLERANCE)
    if problems:
        raise Failed(
            f"LSTMCell over {t} steps from a given (h, c) (gates i, f, g, o as in the "
            "starter's docstring):\n" + "\n".join(problems)
        )
    return 1.0, f"LSTMCell matches the reference over {t} steps."


def char_lstm_weights():
    """The CHAR_LSTM case's weights in float64, each requiring its gradient, and the case."""
    case = cases.char_lstm(*cases.CHAR_LSTM)
    weights = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in case["state_dict"].items()
    }
    return weights, case


def reference_char_lstm(weights, ids, state):
    """The logits (N, T, V) and the final (h, c) of the CharLSTM with ``weights`` on ``ids``
    (a LongTensor (N, T)) from ``state``."""
    embedded = F.embedding(ids, weights["embed.weight"])
    cell = (weights["cell.weight_ih"], weights["cell.weight_hh"], weights["cell.bias"])
    hidden = []
    for step in range(ids.shape[1]):
        state = lstm_step(embedded[:, step], state, *cell)
        hidden.append(state[0])
    logits = F.linear(
        torch.stack(hidden, dim=1), weights["decoder.weight"], weights["decoder.bias"]
    )
    return logits, state


def char_lstm(answer):
    refuse_forbidden(answer, FORBIDDEN_MODULES, "Your CharLSTM")
    _, n, _, _, h = cases.CHAR_LSTM
    weights, case = char_lstm_weights()
    zeros = torch.zeros(n, h, dtype=torch.float64)
    logits, state = reference_char_lstm(weights, torch.tensor(case["ids"]), (zeros, zeros))
    names = list(weights)
    grads = torch.autograd.grad(
        (logits * torch.tensor(case["dlogits"], dtype=torch.float64)).sum(), list(weights.values())
    )
    expected = {
        "logits": logits.detach().numpy(),
        "h": state[0].detach().numpy(),
        "c": state[1].detach().numpy(),
    }
    problems = mismatches(answer, expected, TORCH_TOLERANCE)
    got_grads = answer["grads"]
    if not isinstance(got_grads, dict) or sorted(got_grads) != sorted(names):
        shown = sorted(got_grads) if isinstance(got_grads, dict) else got_grads
        problems.append(f"the model's parameters are {shown}; they must be exactly {names}.")
    else:
        for name, grad in zip(names, grads, strict=True):
            if got_grads[name] is None:
                problems.append(f"{name} got no gradient.")
            elif problem := mismatch(
                f"the gradient of {name}", got_grads[name], grad.numpy(), TORCH_TOLERANCE
            ):
                problems.append(problem)
    if problems:
        raise Failed(
            "CharLSTM.forward on a batch of character ids, and the gradients autograd takes "
            "through it (backpropagation through time over the whole sequence):\n"
            + "\n".join(problems)
        )
    return 1.0, "CharLSTM.forward's logits, final state and gradients match the reference."


@torch.no_grad()
def char_lstm_state(answer):
    refuse_forbidden(answer, FORBIDDEN_MODULES, "Your CharLSTM")
    _, n, t, _, h = cases.CHAR_LSTM
    weights, case = char_lstm_weights()
    start = cases.start_state(cases.CHAR_LSTM_START, n, h)
    h0, c0 = (torch.tensor(start[name], dtype=torch.float64) for name in ("h0", "c0"))
    ids = torch.tensor(case["ids"])
    logits, (h_last, c_last) = reference_char_lstm(weights, ids, (h0, c0))
    one_logits, (one_h, one_c) = reference_char_lstm(weights, ids[:1, :1], (h0[:1], c0[:1]))
    runs = {
        f"from the given state (N = {n}, T = {t})": (
            "whole",
            {"logits": logits, "h": h_last, "c": c_last},
        ),
        f"in two chunks of {t - 1} and 1 characters, the first one's final state passed to the "
        "second": (
            "chunks",
            {
                "first_logits": logits[:, :-1],
                "last_logits": logits[:, -1:],
                "h": h_last,
                "c": c_last,
            },
        ),
        "on a batch of one, one character long, from its row of the state": (
            "one",
            {"logits": one_logits, "h": one_h, "c": one_c},
        ),
    }
    problems = []
    for run, (key, expected) in runs.items():
        expected = {name: value.numpy() for name, value in expected.items()}
        problems += [f"{run}: {p}" for p in mismatches(answer[key], expected, TORCH_TOLERANCE)]
    if problems:
        zeros = torch.zeros(n, h, dtype=torch.float64)
        from_zeros = reference_char_lstm(weights, ids, (zeros, zeros))[0].numpy()
        if mismatch("logits", answer["whole"]["logits"], from_zeros, TORCH_TOLERANCE) is None:
            problems.append(
                "Your logits from the given state are those of a run from zeros: forward "
                "ignores the state it is given."
            )
        raise Failed(
            "CharLSTM.forward(ids, state) must start from the given (h, c), so that a sequence "
            "run in chunks, each chunk's final state passed to the next, gives what it gives "
            "run whole:\n" + "\n".join(problems)
        )
    return 1.0, (
        "CharLSTM.forward starts from the state it is given: in two chunks as whole, and on a "
        "batch of one, one character long."
    )


# ---------------------------------------------------------------------------------------------
# The language model, judged on held-out text
# ---------------------------------------------------------------------------------------------


class ReferenceCharLSTM(nn.Module):
    """The starter's CharLSTM, built on torch.nn.LSTM: same gate order (i, f, g, o) and layout.

    The student's LSTMCell has one bias; torch.nn.LSTM has two, so bias_hh stays zero.
    """

    def __init__(self, vocab_size, embed_dim, hidden_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    @classmethod
    def from_state_dict(cls, state):
        expected_keys = [
            "embed.weight",
            "cell.weight_ih",
            "cell.weight_hh",
            "cell.bias",
            "decoder.weight",
            "decoder.bias",
        ]
        if not isinstance(state, dict) or sorted(state) != sorted(expected_keys):
            keys = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise Failed(
                f"out/model.pt holds {keys}; the starter's CharLSTM has exactly {expected_keys}. "
                "Keep the starter's architecture and attribute names."
            )
        for name, value in state.items():
            if not isinstance(value, torch.Tensor) or not value.is_floating_point():
                raise Failed(f"out/model.pt: {name} is not a floating-point tensor.")
            if not torch.isfinite(value).all():
                raise Failed(
                    f"out/model.pt: {name} holds NaN or infinite values: training diverged."
                )
        vocab_size = len(cases.VOCAB)
        embed_dim = state["embed.weight"].shape[-1]
        hidden_size = state["cell.weight_hh"].shape[-1]
        shapes = {
            "embed.weight": (vocab_size, embed_dim),
            "cell.weight_ih": (4 * hidden_size, embed_dim),
            "cell.weight_hh": (4 * hidden_size, hidden_size),
            "cell.bias": (4 * hidden_size,),
            "decoder.weight": (vocab_size, hidden_size),
            "decoder.bias": (vocab_size,),
        }
        wrong = [
            f"{n} is {tuple(state[n].shape)}, not {s}"
            for n, s in shapes.items()
            if tuple(state[n].shape) != s
        ]
        if wrong:
            raise Failed(
                "out/model.pt does not fit the starter's CharLSTM: " + "; ".join(wrong) + "."
            )
        if not (1 <= embed_dim <= MAX_WIDTH and 1 <= hidden_size <= MAX_WIDTH):
            raise Failed(f"embed_dim and hidden_size must be from 1 to {MAX_WIDTH}.")
        model = cls(vocab_size, embed_dim, hidden_size).double()
        with torch.no_grad():
            model.embed.weight.copy_(state["embed.weight"])
            model.lstm.weight_ih_l0.copy_(state["cell.weight_ih"])
            model.lstm.weight_hh_l0.copy_(state["cell.weight_hh"])
            model.lstm.bias_ih_l0.copy_(state["cell.bias"])
            model.lstm.bias_hh_l0.zero_()
            model.decoder.weight.copy_(state["decoder.weight"])
            model.decoder.bias.copy_(state["decoder.bias"])
        return model.eval()

    def forward(self, ids, state=None):
        hidden, state = self.lstm(self.embed(ids), state)
        return self.decoder(hidden), state

    @torch.no_grad()
    def perplexity(self, ids):
        logits, _ = self(ids[None, :-1])
        cross_entropy = F.cross_entropy(logits[0], ids[1:]).item()
        # Huge (finite) weights can make it inf or nan, and math.exp overflows past 709.
        return math.exp(cross_entropy) if cross_entropy < 700 else math.inf

    @torch.no_grad()
    def sample(self, prompt, length, temperature):
        generator = torch.Generator().manual_seed(0)
        logits, state = self(encode(prompt)[None])
        chars = []
        for _ in range(length):
            probabilities = torch.softmax(logits[0, -1] / temperature, dim=0)
            if not torch.isfinite(probabilities).all():
                return prompt + "".join(chars) + " [the model's probabilities are not finite]"
            index = int(torch.multinomial(probabilities, 1, generator=generator))
            chars.append(cases.VOCAB[index])
            logits, state = self(torch.tensor([[index]]), state)
        return prompt + "".join(chars)


def encode(text):
    index = {char: i for i, char in enumerate(cases.VOCAB)}
    return torch.tensor([index[char] for char in text], dtype=torch.long)


def unigram_perplexity(train, heldout):
    """A model of letter frequencies alone (add-one smoothing): the baseline in the messages."""
    counts = np.bincount(encode(train).numpy(), minlength=len(cases.VOCAB)) + 1.0
    log_probabilities = np.log(counts / counts.sum())
    return math.exp(-log_probabilities[encode(heldout).numpy()].mean())


class LanguageModelResult:
    """The trained model's perplexity on the held-out text, computed once for both tests."""

    def __init__(self, outputs, private):
        self.outputs = outputs
        self.private = private
        self._result = None

    def get(self):
        if self._result is None:
            try:
                self._result = ("ok", self._evaluate())
            except (BadOutput, Failed) as failure:
                self._result = ("failed", failure)
        kind, value = self._result
        if kind == "failed":
            raise value
        return value

    def _evaluate(self):
        answer = driver_answer(self.outputs, "language_model.json")
        model = ReferenceCharLSTM.from_state_dict(self.outputs.torch("model.pt"))
        heldout = (self.private / "heldout.txt").read_text(encoding="utf-8")
        train = (HERE / "public" / "train.txt").read_text(encoding="utf-8")
        perplexity = model.perplexity(encode(heldout))
        return {
            "perplexity": perplexity,
            "baseline": unigram_perplexity(train, heldout),
            "answer": answer,
            "curve": training_curve(answer, self.outputs),
            "sample": model.sample(SAMPLE_PROMPT, SAMPLE_LENGTH, SAMPLE_TEMPERATURE),
        }


def training_curve(answer, outputs):
    """What the student's training reported (shown, never scored): losses, time, device."""
    losses = answer.get("losses")
    if isinstance(losses, list) and all(isinstance(x, int | float) for x in losses[:200]):
        curve = "loss per epoch: " + " ".join(f"{x:.2f}" for x in losses[:200])
    else:
        curve = "loss per epoch: (train_language_model did not return a list of numbers)"
    try:
        device = outputs.json("device.json").get("device", "?")
    except (BadOutput, AttributeError):
        device = "?"
    seconds = answer.get("seconds")
    if isinstance(seconds, int | float):
        curve += f"\ntrained in {seconds:.1f} s on {device}"
    return curve


def losses_problem(losses):
    """Why ``losses`` is not what train_language_model returns (a sentence), or None."""
    if not isinstance(losses, list) or not losses:
        return "train_language_model must return (model, losses), losses a non-empty list."
    if not all(isinstance(x, int | float) and math.isfinite(x) for x in losses):
        return "The losses train_language_model returned are not all finite numbers."
    return None


def carry_problem(chunk_starts):
    """Why the training run the driver watched is not truncated BPTT (a sentence), or None.

    ``chunk_starts`` counts the LSTMCell steps with autograd on, and among them those whose
    incoming state had no graph: from zeros, from the state the step before returned, or other.
    A state carried without its graph cut has a graph, so it starts no chunk at all.
    """
    counts = {key: int(chunk_starts[key]) for key in ("steps", "fresh", "carried", "other")}
    if counts["carried"] > 0:
        return None
    if counts["steps"] == 0:
        return "train_language_model never ran your LSTMCell with autograd on."
    other = f", {counts['other']} from some other state" if counts["other"] else ""
    return (
        "No chunk of your training started from the state the chunk before ended with, cut from "
        f"its graph: {counts['fresh']} started from zeros{other}. Pass each chunk's final "
        "state, detached, to the next (and check that CharLSTM.forward uses the state it is "
        "given)."
    )


def lm_trains(language_model):
    result = language_model.get()
    baseline = f"a model of letter frequencies alone scores about {result['baseline']:.0f}"
    details = f"{result['curve']}\nsample (temperature {SAMPLE_TEMPERATURE}):\n{result['sample']}"
    answer = result["answer"]
    refuse_forbidden(answer, FORBIDDEN_MODULES, "Your train_language_model")
    problems = [
        problem
        for problem in (losses_problem(answer["losses"]), carry_problem(answer["chunk_starts"]))
        if problem
    ]
    if result["perplexity"] >= COARSE_PERPLEXITY:
        problems.append(
            f"Held-out perplexity is not below {COARSE_PERPLEXITY:.0f} ({baseline}): your model "
            "has not learned much beyond single letters."
        )
    if problems:
        raise Failed("\n".join(problems) + f"\n{details}")
    return 1.0, (
        f"Your training carried the state from chunk to chunk, and the held-out perplexity is "
        f"below {COARSE_PERPLEXITY:.0f} ({baseline}): your model learned more than letter "
        f"statistics.\n{details}"
    )


def heldout_perplexity(language_model):
    result = language_model.get()
    perplexity = result["perplexity"]
    fraction = (ZERO_PERPLEXITY - perplexity) / (ZERO_PERPLEXITY - FULL_PERPLEXITY)
    fraction = min(1.0, max(0.0, fraction))
    return fraction, (
        f"Held-out perplexity: {perplexity:.2f} (full points at {FULL_PERPLEXITY} or below, "
        f"none at {ZERO_PERPLEXITY} or above; the reference solution gets about 7.0).\n"
        f"{result['curve']}"
    )
