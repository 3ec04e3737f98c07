"""A hand-in that does none of the work and forges the autograder's outputs instead.

Every function returns zeros of the right shape at once, train_language_model returns an
untrained model with a made-up loss curve, and when the driver is done an exit handler
overwrites every file in out/ with answers that claim success: arrays of the right shapes,
perfect-looking losses, a training run whose chunks all carried their state, no forbidden
shortcut used, and a random model.pt. It must score 0 on every test: the grader
rebuilds the inputs and the references itself and scores the weights on held-out text.
"""

import atexit
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path("public").resolve()))
import cases  # the autograder's public helper: the shapes of every case

OUT = Path("out")


def rnn_forward(x, h0, Wx, Wh, b):
    return np.zeros((x.shape[0], x.shape[1], h0.shape[1])), (x, h0, Wx, Wh, b)


def rnn_backward(dh, cache):
    return tuple(np.zeros_like(array) for array in cache)


lstm_forward = rnn_forward
lstm_backward = rnn_backward


def clip_grad_norm_(parameters, max_norm):
    return float(max_norm)


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.zeros(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.zeros(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.zeros(4 * hidden_size))

    def forward(self, x, state):
        return state


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=32, hidden_size=128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.cell = LSTMCell(embed_dim, hidden_size)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        n, t = ids.shape
        h = torch.zeros(n, self.cell.hidden_size)
        return self.decoder(h)[:, None].expand(n, t, -1), (h, h)


def train_language_model(text, vocab, **options):
    return CharLSTM(len(vocab)), [2.0, 1.0, 0.5, 0.2, 0.1]


def zeros_like_case(kind, spec):
    _, n, t, d, h = spec
    g = 1 if kind == "rnn" else 4
    shapes = {"h": (n, t, h), "dx": (n, t, d), "dh0": (n, h), "dWx": (d, g * h)}
    shapes.update({"dWh": (h, g * h), "db": (g * h,)})
    return {name: np.full(shape, 0.1).tolist() for name, shape in shapes.items()}


def forge():
    answers = {
        name: zeros_like_case(name.split("_")[0], cases.SEQUENCES[name.split("_")[0]])
        for name in ("rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward")
    }
    answers["backward_more_shapes"] = {
        name: zeros_like_case(name.split("_")[0], spec) for name, spec in cases.MORE_SHAPES.items()
    }
    answers["clip_grad_norm"] = {
        name: {
            "total_norm": spec[1],
            "grads": [np.zeros(shape).tolist() for shape in cases.CLIP_SHAPES[:-1]],
            "last_grad_is_none": True,
        }
        for name, spec in cases.CLIP.items()
    }
    _, n, t, _, h = cases.CELL
    answers["lstm_cell"] = {"h": np.zeros((n, t, h)).tolist(), "c": np.zeros((n, t, h)).tolist()}
    _, n, t, e, h = cases.CHAR_LSTM
    v = len(cases.VOCAB)
    weights = CharLSTM(v, e, h).state_dict()
    answers["char_lstm"] = {
        "logits": np.zeros((n, t, v)).tolist(),
        "h": np.zeros((n, h)).tolist(),
        "c": np.zeros((n, h)).tolist(),
        "grads": {name: np.zeros(tuple(w.shape)).tolist() for name, w in weights.items()},
    }
    zero_run = {"logits": np.zeros((n, t, v)).tolist()} | {
        name: np.zeros((n, h)).tolist() for name in ("h", "c")
    }
    answers["char_lstm_state"] = {
        "whole": zero_run,
        "chunks": {
            "first_logits": np.zeros((n, t - 1, v)).tolist(),
            "last_logits": np.zeros((n, 1, v)).tolist(),
            "h": np.zeros((n, h)).tolist(),
            "c": np.zeros((n, h)).tolist(),
        },
        "one": {"logits": np.zeros((1, 1, v)).tolist()}
        | {name: np.zeros((1, h)).tolist() for name in ("h", "c")},
    }
    answers["language_model"] = {
        "losses": [2.0, 1.0, 0.5, 0.2, 0.1],
        "seconds": 1.0,
        "chunk_starts": {"steps": 8000, "fresh": 12, "carried": 156, "other": 0},
    }
    for name, answer in answers.items():
        forged = {"ok": True, **answer, "forbidden": []}
        (OUT / f"{name}.json").write_text(json.dumps(forged))
    model = CharLSTM(len(cases.VOCAB))
    torch.save({k: torch.randn_like(v) for k, v in model.state_dict().items()}, OUT / "model.pt")
    print("loss per epoch: 2.00 1.00 0.50 0.20 0.10 -- all tests passed!")


atexit.register(forge)
