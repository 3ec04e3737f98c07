"""A3's flawed hand-ins: the reference solution with one realistic mistake each, and the tests
each must lose (and no other). The assignment's tests write them into temporary folders; to look
at them or grade them by hand:

    .venv/bin/python examples/assignments/a3-rnn/make_flawed.py /tmp/a3-flawed [NAME ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mistakes import Edit, Mistake, main

RNN = "rnn.py"
# The solution's clip_grad_norm_, which three mistakes rewrite: the gradients it keeps, and how it
# scales them by one factor.
GRADIENTS_KEPT = (
    "    grads = [p.grad for p in parameters if p.grad is not None]\n"
    "    if not grads:\n"
    "        return 0.0\n"
)
GLOBAL_NORM = "    total = math.sqrt(sum(float(g.detach().double().pow(2).sum()) for g in grads))\n"
SCALING = (
    "    if total > max_norm:\n"
    "        scale = max_norm / (total + 1e-6)\n"
    "        for g in grads:\n"
    "            g.detach().mul_(scale)\n"
)

MISTAKES = [
    Mistake(
        name="bptt-no-carry",
        edits=(
            Edit(
                RNN,
                "        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)\n",
                "        da = dh[:, t] * (1 - h[:, t] ** 2)\n",
            ),
        ),
        loses=("rnn_backward", "backward_more_shapes"),
        description="rnn_backward uses only the gradient the loss sends to h_t directly "
        "(dh[:, t]) and drops the one flowing back from step t + 1, so backpropagation through "
        "time stops after one step: dx is right only at the last time step, and dWx, dWh, db "
        "miss most of their terms. The hidden test fails on its long sequence (its T = 1 case "
        "passes).",
    ),
    Mistake(
        name="lstm-bptt-no-forget-gate",
        edits=(Edit(RNN, "        dc_next = dc * f\n", "        dc_next = dc\n"),),
        loses=("lstm_backward", "backward_more_shapes"),
        description="lstm_backward passes the cell-state gradient to step t - 1 without "
        "multiplying it by the forget gate (dc_{t-1} = dc_t instead of dc_t * f_t), as if "
        "c_t = c_{t-1} + i * g: every gradient is wrong except at the last time step.",
    ),
    Mistake(
        name="clip-per-parameter",
        edits=(
            Edit(
                RNN,
                GLOBAL_NORM + SCALING + "    return total\n",
                "    norms = []\n"
                "    for g in grads:\n"
                "        norm = float(g.detach().double().norm())\n"
                "        if norm > max_norm:\n"
                "            g.detach().mul_(max_norm / (norm + 1e-6))\n"
                "        norms.append(norm)\n"
                "    return max(norms)\n",
            ),
        ),
        loses=("clip_grad_norm",),
        description="clip_grad_norm_ clips each parameter's gradient to max_norm on its own "
        "(and returns the largest of their norms) instead of scaling all gradients by one "
        "factor from their global norm, which changes the direction of the update. Training "
        "still works with it, so only clip_grad_norm fails.",
    ),
    Mistake(
        name="clip-generator-twice",
        edits=(
            Edit(
                RNN,
                GRADIENTS_KEPT + GLOBAL_NORM + SCALING,
                "    total = math.sqrt(\n"
                "        sum(\n"
                "            float(p.grad.double().pow(2).sum())\n"
                "            for p in parameters\n"
                "            if p.grad is not None\n"
                "        )\n"
                "    )\n"
                "    if total > max_norm:\n"
                "        scale = max_norm / (total + 1e-6)\n"
                "        for p in parameters:\n"
                "            if p.grad is not None:\n"
                "                p.grad.detach().mul_(scale)\n",
            ),
        ),
        loses=("clip_grad_norm",),
        description="clip_grad_norm_ goes through `parameters` twice, once for the norm and once "
        "to scale, as if it were a list; given a generator such as model.parameters() (as the "
        "docstring warns), the second pass finds it empty and nothing is ever scaled. It returns "
        "the right norm, and a model trained without clipping still learns, so only "
        "clip_grad_norm fails.",
    ),
    Mistake(
        name="clip-with-torch",
        edits=(
            Edit(
                RNN,
                GRADIENTS_KEPT + GLOBAL_NORM + SCALING + "    return total\n",
                "    return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))\n",
            ),
        ),
        loses=("clip_grad_norm",),
        description="clip_grad_norm_ hands the work to torch.nn.utils.clip_grad_norm_, which "
        "the rules forbid. Its results are right, and training with it is too; the driver sees "
        "the call, and clip_grad_norm, the test of the function it should have written, fails.",
    ),
    Mistake(
        name="gate-order",
        edits=(
            Edit(
                RNN,
                "        i, f, g, o = gates.chunk(4, dim=1)\n",
                "        i, f, o, g = gates.chunk(4, dim=1)\n",
            ),
        ),
        loses=("lstm_cell", "char_lstm", "char_lstm_state", "lm_trains", "heldout_perplexity"),
        description="LSTMCell splits the gates in the order i, f, o, g (as in some course "
        "notes) instead of the starter's i, f, g, o. The model trains as well as the reference, "
        "but its weights do not follow PyTorch's layout: loaded into the grader's architecture "
        "they predict the held-out text badly (perplexity about 76), and the cell does not "
        "match the reference on given weights. The NumPy LSTM is right.",
    ),
    Mistake(
        name="detach-every-step",
        edits=(
            Edit(
                RNN,
                "            state = self.cell(embedded[:, t], state)\n",
                "            state = self.cell(embedded[:, t], tuple(s.detach() for s in state))\n",
            ),
        ),
        loses=("char_lstm",),
        description="CharLSTM.forward detaches the state inside its time loop instead of once "
        "per chunk in the training loop, so no gradient flows from one time step to the one "
        "before. On this small text its held-out perplexity still earns full points (about 7.4 "
        "against 7.0); the gradient check of char_lstm catches it. The state it is given is "
        "used, and carried from chunk to chunk in training.",
    ),
    Mistake(
        name="forward-ignores-state",
        edits=(
            Edit(
                RNN,
                "        if state is None:\n"
                "            state = self.initial_state(ids.shape[0], ids.device)\n",
                "        state = self.initial_state(ids.shape[0], ids.device)\n",
            ),
        ),
        loses=("char_lstm_state", "lm_trains"),
        description="CharLSTM.forward starts every call from zeros, whatever state it is given. "
        "From no state it is right, so char_lstm passes, and the training loop does pass the "
        "state on, but every chunk of training still starts from zeros: the state is never "
        "carried. The model still reaches a held-out perplexity of about 7.2 (full points "
        "there); char_lstm_state and the watch on training's chunks catch it.",
    ),
    Mistake(
        name="squeeze-batch-of-one",
        edits=(
            Edit(
                RNN,
                "        return self.decoder(torch.stack(hidden, dim=1)), state\n",
                "        return self.decoder(torch.stack(hidden, dim=1).squeeze()), state\n",
            ),
        ),
        loses=("char_lstm_state",),
        description="CharLSTM.forward squeezes the stacked hidden states (meant to drop a "
        "stray dimension), which also drops the batch or the time dimension when it is 1: on a "
        "batch of one, or a chunk one character long, the logits lose their (N, T, V) shape. "
        "Training (batches of 16, chunks of 50) never notices.",
    ),
    Mistake(
        name="state-not-carried",
        edits=(
            Edit(
                RNN,
                "            logits, state = model(inputs, state)\n",
                "            logits, state = model(inputs)\n",
            ),
        ),
        loses=("lm_trains",),
        description="The training loop detaches the state between chunks but never passes it "
        "to the model, so every chunk starts from zeros: not the truncated BPTT the README asks "
        "for. The model still reaches a held-out perplexity of about 7.2 (full points there); "
        "the driver's watch on the chunks' start states catches it in lm_trains.",
    ),
    Mistake(
        name="cell-state-not-detached",
        edits=(
            Edit(
                RNN,
                "                state = tuple(s.detach() for s in state)\n",
                "                state = (state[0].detach(), state[1])\n",
            ),
        ),
        loses=("lm_trains", "heldout_perplexity"),
        description="The training loop detaches the hidden state h between chunks but not the "
        "cell state c, so the second chunk's backward pass reaches into the first chunk's freed "
        "graph and train_language_model raises 'Trying to backward through the graph a second "
        "time'. Everything else is right.",
    ),
]

if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
