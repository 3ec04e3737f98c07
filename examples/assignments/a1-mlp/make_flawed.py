"""Writes flawed/<mistake>/: the reference solution with one realistic mistake each, and the
tests it must lose (expected.json). Run it again after changing solution/mlp.py:

    .venv/bin/python examples/assignments/a1-mlp/make_flawed.py
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# mistake: (text of the solution, what replaces it, tests lost, description)
MISTAKES = {
    "relu-backward-uses-output": (
        """        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, grad_out):
        return grad_out * self.mask
""",
        """        self.out = np.maximum(x, 0.0)
        return self.out

    def backward(self, grad_out):
        return grad_out * self.out
""",
        ["relu", "mlp_backward"],
        "ReLU.backward multiplies the upstream gradient by ReLU's output max(x, 0) instead of by "
        "its derivative, the mask x > 0. The unit tests of ReLU and of the MLP's backward pass "
        "fail; training still works (the gradient keeps its sign), so the training tests pass.",
    ),
    "unstable-softmax": (
        """    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, labels].mean()
    grad = np.exp(log_probs)
""",
        """    exp = np.exp(logits)
    probs = exp / exp.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = -np.log(probs[rows, labels]).mean()
    grad = probs.copy()
""",
        ["softmax_stability"],
        "softmax_cross_entropy exponentiates the logits without subtracting their row maximum: "
        "exp overflows to inf on logits around 1000 and the loss and gradient become nan. It is "
        "exact on ordinary logits, so only softmax_stability fails; the digits networks' logits "
        "stay small.",
    ),
    "momentum-velocity-not-stored": (
        """            v *= self.momentum
            v += g
""",
        """            v = self.momentum * v + g
""",
        ["sgd_momentum"],
        "SGD.step computes the new velocity into the loop variable (v = momentum * v + g), which "
        "rebinds the name instead of updating the stored array: the velocities stay zero and "
        "every step is plain SGD. sgd_momentum fails (its momentum=0 part alone would pass); "
        "plain SGD at lr=0.1 still trains the digits networks well, so the training tests pass.",
    ),
    "loss-gradient-not-averaged": (
        """    return float(loss), grad / n
""",
        """    return float(loss), grad
""",
        [
            "softmax_cross_entropy",
            "softmax_stability",
            "training_loss",
            "heldout_accuracy",
            "retrain",
        ],
        "softmax_cross_entropy returns the mean loss but the gradient of the summed loss (it "
        "forgets to divide by the batch size). Both softmax tests fail on the gradient, and "
        "training, in effect at a learning rate 32 times too large, diverges: the three training "
        "tests fail. The layers, the MLP's backward pass and SGD are right and keep their points.",
    ),
    "sigmoid-derivative-of-input": (
        """        return grad_out * self.out * (1.0 - self.out)
""",
        """        return grad_out * self.x * (1.0 - self.x)
""",
        ["sigmoid"],
        "Sigmoid.backward computes s(1 - s) with the input x in place of the output s = "
        "sigmoid(x). Only the sigmoid test fails: the graded networks use ReLU and tanh.",
    ),
}
# The sigmoid mistake needs the input kept; the solution keeps only the output.
EXTRA = {
    "sigmoid-derivative-of-input": (
        "        # exp(-|x|) never overflows",
        "        self.x = x\n        # exp(-|x|) never overflows",
    )
}


def main() -> None:
    solution = (HERE / "solution/mlp.py").read_text()
    for name, (old, new, fails, description) in MISTAKES.items():
        changes = [(old, new), *([EXTRA[name]] if name in EXTRA else [])]
        text = solution
        for before, after in changes:
            if text.count(before) != 1:
                raise SystemExit(f"{name}: the solution no longer has exactly one {before!r}")
            text = text.replace(before, after)
        text = text.replace(
            "The reference solution.",
            f"The reference solution with one mistake, {name} (see expected.json).",
            1,
        )
        folder = HERE / "flawed" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "mlp.py").write_text(text)
        expected = {"fails": fails, "description": description}
        (folder / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")


if __name__ == "__main__":
    main()
