"""Writes flawed/<mistake>/: the reference solution with one realistic mistake each, and the
tests it must lose (expected.json). Run it again after changing solution/rnn.py:

    .venv/bin/python examples/assignments/a3-rnn/make_flawed.py
"""

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent

# mistake: (text of the solution, what replaces it, tests lost, description)
MISTAKES = {
    "bptt-no-carry": (
        "        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)\n",
        "        da = dh[:, t] * (1 - h[:, t] ** 2)\n",
        ["rnn_backward", "backward_more_shapes"],
        "rnn_backward uses only the gradient the loss sends to h_t directly (dh[:, t]) and drops "
        "the one flowing back from step t + 1, so backpropagation through time stops after one "
        "step: dx is right only at the last time step, and dWx, dWh, db miss most of their "
        "terms. The hidden test fails on its long sequence (its T = 1 case passes).",
    ),
    "lstm-bptt-no-forget-gate": (
        "        dc_next = dc * f\n",
        "        dc_next = dc\n",
        ["lstm_backward", "backward_more_shapes"],
        "lstm_backward passes the cell-state gradient to step t - 1 without multiplying it by "
        "the forget gate (dc_{t-1} = dc_t instead of dc_t * f_t), as if c_t = c_{t-1} + i * g: "
        "every gradient is wrong except at the last time step.",
    ),
    "clip-per-parameter": (
        """    total = math.sqrt(sum(float(g.detach().double().pow(2).sum()) for g in grads))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for g in grads:
            g.detach().mul_(scale)
    return total
""",
        """    norms = []
    for g in grads:
        norm = float(g.detach().double().norm())
        if norm > max_norm:
            g.detach().mul_(max_norm / (norm + 1e-6))
        norms.append(norm)
    return max(norms)
""",
        ["clip_grad_norm"],
        "clip_grad_norm_ clips each parameter's gradient to max_norm on its own (and returns the "
        "largest of their norms) instead of scaling all gradients by one factor from their "
        "global norm, which changes the direction of the update. Training still works with it, "
        "so only clip_grad_norm fails.",
    ),
    "gate-order": (
        "        i, f, g, o = gates.chunk(4, dim=1)\n",
        "        i, f, o, g = gates.chunk(4, dim=1)\n",
        ["lstm_cell", "char_lstm", "lm_trains", "heldout_perplexity"],
        "LSTMCell splits the gates in the order i, f, o, g (as in some course notes) instead of "
        "the starter's i, f, g, o. The model trains as well as the reference, but its weights do "
        "not follow PyTorch's layout: loaded into the grader's architecture they predict the "
        "held-out text badly (perplexity about 76), and the cell does not match the reference "
        "on given weights. The NumPy LSTM is right.",
    ),
    "detach-every-step": (
        "            state = self.cell(embedded[:, t], state)\n",
        "            state = self.cell(embedded[:, t], tuple(s.detach() for s in state))\n",
        ["char_lstm"],
        "CharLSTM.forward detaches the state inside its time loop instead of once per chunk in "
        "the training loop, so no gradient flows from one time step to the one before. On this "
        "small text its held-out perplexity still earns full points (about 7.4 against 7.0); "
        "the gradient check of char_lstm catches it.",
    ),
    "cell-state-not-detached": (
        "                state = tuple(s.detach() for s in state)\n",
        "                state = (state[0].detach(), state[1])\n",
        ["lm_trains", "heldout_perplexity"],
        "The training loop detaches the hidden state h between chunks but not the cell state c, "
        "so the second chunk's backward pass reaches into the first chunk's freed graph and "
        "train_language_model raises 'Trying to backward through the graph a second time'. "
        "Everything else is right.",
    ),
}


def main() -> None:
    solution = (HERE / "solution" / "rnn.py").read_text()
    shutil.rmtree(HERE / "flawed", ignore_errors=True)
    for name, (original, mistake, fails, description) in MISTAKES.items():
        if solution.count(original) != 1:
            raise SystemExit(f"{name}: the solution no longer holds the text to change once")
        folder = HERE / "flawed" / name
        folder.mkdir(parents=True)
        (folder / "rnn.py").write_text(solution.replace(original, mistake))
        expected = {"fails": fails, "description": description}
        (folder / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")


if __name__ == "__main__":
    main()
