"""Checks for A3 that run on your own machine, before you hand in rnn.py.

    python check.py              # every part
    python check.py rnn lstm     # some parts: rnn, lstm, clip, cell, lm

They are not the autograder (README.md lists its tests), but they check the same things in
other ways: your NumPy gradients against finite differences, clip_grad_norm_ on a small
example, your LSTMCell against torch.nn.LSTMCell, and your language model on the last tenth of
the training text (the autograder uses text you do not have). The lm part needs
public/train.txt, handed out with this folder; --text names another place.
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np
import rnn
import torch
import torch.nn.functional as F

# The autograder's vocabulary: newline, then printable ASCII.
VOCAB = "\n" + "".join(chr(code) for code in range(32, 127))
GRADIENT_NAMES = ("dx", "dh0", "dWx", "dWh", "db")


def numeric_gradient(f, array, eps=1e-6):
    """The gradient of the scalar f() with respect to ``array`` (changed in place and restored),
    by central differences."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        plus = f()
        array[index] = saved - eps
        minus = f()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


def check_sequence(kind):
    gates = 1 if kind == "rnn" else 4
    forward, backward = getattr(rnn, f"{kind}_forward"), getattr(rnn, f"{kind}_backward")
    rng = np.random.default_rng(0)
    n, t, d, h = 2, 4, 3, 5
    inputs = [
        rng.normal(size=(n, t, d)),
        rng.normal(size=(n, h)),
        rng.normal(size=(d, gates * h)) / np.sqrt(d),
        rng.normal(size=(h, gates * h)) / np.sqrt(h),
        rng.normal(size=(gates * h,)) * 0.5,
    ]
    dh = rng.normal(size=(n, t, h))
    hidden, cache = forward(*inputs)
    ok = np.shape(hidden) == (n, t, h)
    print(f"{kind}_forward: h has shape {np.shape(hidden)}, expected {(n, t, h)}")
    grads = backward(dh, cache)
    for name, array, grad in zip(GRADIENT_NAMES, inputs, grads, strict=True):
        expected = numeric_gradient(lambda: float((forward(*inputs)[0] * dh).sum()), array)
        error = relative_error(np.asarray(grad), expected)
        ok &= error < 1e-6
        print(f"{kind}_backward: {name} relative error {error:.2e} (should be below 1e-6)")
    return ok


def check_clip():
    a = torch.zeros(2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    c = torch.zeros(3, requires_grad=True)  # no gradient: must be skipped
    a.grad, b.grad = torch.tensor([3.0, 4.0]), torch.tensor([12.0])  # global norm 13
    total = rnn.clip_grad_norm_((p for p in (a, b, c)), 5.0)
    ok = math.isclose(float(total), 13.0, rel_tol=1e-5) and c.grad is None
    ok &= torch.allclose(a.grad, torch.tensor([3.0, 4.0]) * 5 / 13, rtol=1e-4)
    ok &= torch.allclose(b.grad, torch.tensor([12.0]) * 5 / 13, rtol=1e-4)
    print(f"clip_grad_norm_ above max_norm: returned {float(total):.4g} (13), a.grad {a.grad}")
    a.grad, b.grad = torch.tensor([3.0, 4.0]), torch.tensor([12.0])
    total = rnn.clip_grad_norm_([a, b, c], 20.0)
    ok &= torch.equal(a.grad, torch.tensor([3.0, 4.0])) and torch.equal(
        b.grad, torch.tensor([12.0])
    )
    print(f"clip_grad_norm_ below max_norm: returned {float(total):.4g} (13), a.grad {a.grad}")
    return ok


def check_cell():
    torch.manual_seed(0)
    n, d, h = 3, 4, 5
    cell = rnn.LSTMCell(d, h)
    reference = torch.nn.LSTMCell(d, h)
    with torch.no_grad():
        reference.weight_ih.copy_(cell.weight_ih)
        reference.weight_hh.copy_(cell.weight_hh)
        reference.bias_ih.copy_(cell.bias)
        reference.bias_hh.zero_()
    x, state = torch.randn(n, d), (torch.randn(n, h), torch.randn(n, h))
    with torch.no_grad():
        mine, theirs = cell(x, state), reference(x, state)
    ok = all(torch.allclose(a, b, atol=1e-6) for a, b in zip(mine, theirs, strict=True))
    print(f"LSTMCell equals torch.nn.LSTMCell with the same weights: {ok}")

    model = rnn.CharLSTM(len(VOCAB), 8, 16)
    embedded = []
    model.embed.register_forward_hook(lambda module, inputs, output: embedded.append(output))
    ids = torch.randint(0, len(VOCAB), (2, 6))
    logits, (h_last, _) = model(ids)
    embedded[0].retain_grad()
    shapes_ok = tuple(logits.shape) == (2, 6, len(VOCAB)) and tuple(h_last.shape) == (2, 16)
    print(f"CharLSTM: logits {tuple(logits.shape)} (2, 6, {len(VOCAB)}), h {tuple(h_last.shape)}")
    # The last prediction must depend, through time, on the first character's embedding.
    logits[:, -1].sum().backward()
    through_time = bool(embedded[0].grad[:, 0].abs().sum() > 0)
    print(f"CharLSTM: the gradient reaches the first time step: {through_time}")
    return ok and shapes_ok and through_time and check_state(model, ids)


def check_state(model, ids):
    """CharLSTM.forward from a given state: two chunks, the state passed on, equal one run."""
    state = torch.randn(2, 16).tanh(), torch.randn(2, 16)
    with torch.no_grad():
        whole, (h_whole, c_whole) = model(ids, state)
        first, carried = model(ids[:, :4], state)
        second, (h_last, c_last) = model(ids[:, 4:], carried)
        one, (h_one, _) = model(ids[:1, :1], (state[0][:1], state[1][:1]))
    chunks_ok = all(
        torch.allclose(a, b, atol=1e-5)
        for a, b in (
            (whole, torch.cat([first, second], dim=1)),
            (h_whole, h_last),
            (c_whole, c_last),
        )
    )
    print(
        f"CharLSTM: two chunks with the state passed on equal one run from the state: {chunks_ok}"
    )
    one_ok = tuple(one.shape) == (1, 1, len(VOCAB)) and tuple(h_one.shape) == (1, 16)
    print(f"CharLSTM: one character of a batch of one: logits {tuple(one.shape)} (1, 1, 96)")
    return chunks_ok and one_ok


def check_lm(text_path):
    if not Path(text_path).is_file():
        print(f"{text_path} is missing: put public/ next to check.py, or pass --text")
        return False
    torch.set_num_threads(1)  # as in the autograder; small models train faster on one thread
    text = Path(text_path).read_text(encoding="utf-8")
    cut = int(len(text) * 0.9)
    started = time.monotonic()
    model, losses = rnn.train_language_model(text[:cut], VOCAB, seed=0)
    print(f"trained in {time.monotonic() - started:.1f} s")
    print("loss per epoch:", " ".join(f"{loss:.2f}" for loss in losses))
    ids = rnn.encode(text[cut:], VOCAB).to(next(model.parameters()).device)
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
        perplexity = math.exp(F.cross_entropy(logits[0], ids[1:]).item())
    print(f"perplexity on the last tenth of the text: {perplexity:.2f} (lower is better)")
    return perplexity < 12


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["rnn", "lstm", "clip", "cell", "lm"])
    parser.add_argument("--text", default="public/train.txt")
    arguments = parser.parse_args()
    checks = {
        "rnn": lambda: check_sequence("rnn"),
        "lstm": lambda: check_sequence("lstm"),
        "clip": check_clip,
        "cell": check_cell,
        "lm": lambda: check_lm(arguments.text),
    }
    for part in arguments.parts:
        print(f"--- {part}")
        try:
            passed = checks[part]()
        except NotImplementedError as error:
            print(f"not implemented yet: {error}")
            continue
        print("looks right" if passed else "SOMETHING IS WRONG")


if __name__ == "__main__":
    main()
