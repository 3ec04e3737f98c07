"""The inputs of A3's unit tests, made from fixed seeds.

driver.py builds them inside the sandbox to call the student's functions; grader.py builds the
very same arrays outside it to compute the reference answers, so no input the grader uses ever
comes from the sandbox. NumPy only: the same seed gives the same arrays on every machine.
"""

import numpy as np

# Every character the language model knows: newline, then printable ASCII. Index = position.
VOCAB = "\n" + "".join(chr(code) for code in range(32, 127))

# (seed, N, T, D, H) of each sequence case: the NumPy RNN and LSTM tests.
SEQUENCES = {
    "rnn": (101, 3, 8, 5, 6),
    "lstm": (102, 3, 8, 5, 6),
}
# The hidden test: one time step and a single example, and a long sequence with D != H.
MORE_SHAPES = {
    "rnn_single_step": (111, 1, 1, 3, 2),
    "rnn_long": (112, 2, 30, 4, 7),
    "lstm_single_step": (113, 1, 1, 3, 2),
    "lstm_long": (114, 2, 30, 4, 7),
}
# Gradient clipping: (seed, max_norm, global norm the gradients are scaled to); the last
# parameter of each case has no gradient at all.
CLIP = {
    "above": (121, 2.5, 10.0),
    "below": (122, 2.5, 1.5),
}
CLIP_SHAPES = [(4, 3), (3,), (5, 5), (2,)]
CELL = (131, 3, 4, 5, 6)  # seed, N, T, D, H: LSTMCell stepped T times
CHAR_LSTM = (141, 2, 10, 8, 12)  # seed, N, T, E, H: CharLSTM over VOCAB
# The seed of the (h0, c0) the CHAR_LSTM case starts from in the test of the state argument.
CHAR_LSTM_START = 151


def sequence(seed, n, t, d, h, *, gates):
    """x, h0, Wx, Wh, b and the upstream gradient dh for a sequence model (gates: 1 RNN, 4 LSTM).

    Weights are scaled so that tanh does not saturate and gradients reach back to t = 0.
    """
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(n, t, d)),
        "h0": rng.normal(size=(n, h)),
        "Wx": rng.normal(size=(d, gates * h)) / np.sqrt(d),
        "Wh": rng.normal(size=(h, gates * h)) / np.sqrt(h),
        "b": rng.normal(size=(gates * h,)) * 0.5,
        "dh": rng.normal(size=(n, t, h)),
    }


def clip(seed, max_norm, norm):
    """Gradients with global norm ``norm`` (float32, one per CLIP_SHAPES entry but the last) and
    ``max_norm``; the parameters' values themselves do not matter."""
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=shape) * rng.uniform(0.2, 3.0) for shape in CLIP_SHAPES[:-1]]
    total = np.sqrt(sum(float((g**2).sum()) for g in grads))
    return {"grads": [(g * (norm / total)).astype(np.float32) for g in grads], "max_norm": max_norm}


def cell(seed, n, t, d, h):
    """An LSTMCell's state_dict (PyTorch layout), inputs x (N, T, D) and a start state h0, c0."""
    rng = np.random.default_rng(seed)
    arrays = {
        "weight_ih": rng.normal(size=(4 * h, d)) / np.sqrt(d),
        "weight_hh": rng.normal(size=(4 * h, h)) / np.sqrt(h),
        "bias": rng.normal(size=(4 * h,)) * 0.5,
        "x": rng.normal(size=(n, t, d)),
        "h0": rng.normal(size=(n, h)) * 0.5,
        "c0": rng.normal(size=(n, h)),
    }
    return {name: value.astype(np.float32) for name, value in arrays.items()}


def char_lstm(seed, n, t, e, h):
    """A CharLSTM's state_dict over VOCAB, character ids (N, T) and an upstream gradient for the
    logits (N, T, V)."""
    rng = np.random.default_rng(seed)
    v = len(VOCAB)
    weights = {
        "embed.weight": rng.normal(size=(v, e)),
        "cell.weight_ih": rng.normal(size=(4 * h, e)) / np.sqrt(e),
        "cell.weight_hh": rng.normal(size=(4 * h, h)) / np.sqrt(h),
        "cell.bias": rng.normal(size=(4 * h,)) * 0.5,
        "decoder.weight": rng.normal(size=(v, h)) / np.sqrt(h),
        "decoder.bias": rng.normal(size=(v,)) * 0.1,
    }
    return {
        "state_dict": {name: value.astype(np.float32) for name, value in weights.items()},
        "ids": rng.integers(0, v, size=(n, t)),
        "dlogits": rng.normal(size=(n, t, v)).astype(np.float32),
    }


def start_state(seed, n, h):
    """A non-zero state (h0, c0) to start a CharLSTM from, float32: h0 in (-1, 1), as an LSTM's
    hidden state is, and c0 of either sign and larger."""
    rng = np.random.default_rng(seed)
    return {
        "h0": np.tanh(rng.normal(size=(n, h))).astype(np.float32),
        "c0": (rng.normal(size=(n, h)) * 1.5).astype(np.float32),
    }
