"""A1's mistakes: the reference solution with one realistic mistake each, and the tests it must
lose (every other test keeps full marks). The tests write each hand-in from solution/ and its
edits, so a mistake stays right when the solution changes. To look at them or grade them:

    .venv/bin/python examples/assignments/a1-mlp/make_flawed.py /tmp/a1-flawed [NAME ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mistakes import Edit, Mistake, main

MLP = "mlp.py"
TRAINING = ("training_loss", "heldout_accuracy", "retrain")
# The sigmoid mistakes below need the input kept; the solution keeps only the output.
KEEP_SIGMOID_INPUT = Edit(
    MLP,
    "        # exp(-|x|) never overflows",
    "        self.x = x\n        # exp(-|x|) never overflows",
)

MISTAKES = [
    Mistake(
        name="relu-backward-uses-output",
        edits=(
            Edit(
                MLP,
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
            ),
        ),
        loses=("relu", "mlp_backward"),
        description="ReLU.backward multiplies the upstream gradient by ReLU's output max(x, 0) "
        "instead of by its derivative, the mask x > 0. The unit tests of ReLU and of the MLP's "
        "backward pass fail; training still works (the gradient keeps its sign), so the "
        "training tests pass.",
    ),
    Mistake(
        name="unstable-softmax",
        edits=(
            Edit(
                MLP,
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
            ),
        ),
        loses=("softmax_stability",),
        description="softmax_cross_entropy exponentiates the logits without subtracting their "
        "row maximum: exp overflows to inf on logits around 1000 and the loss and gradient "
        "become nan. It is exact on ordinary logits, so only softmax_stability fails; the "
        "digits networks' logits stay small.",
    ),
    Mistake(
        name="momentum-velocity-not-stored",
        edits=(
            Edit(
                MLP,
                """            v *= self.momentum
            v += g
""",
                """            v = self.momentum * v + g
""",
            ),
        ),
        loses=("sgd_momentum", "train_loop"),
        description="SGD.step computes the new velocity into the loop variable "
        "(v = momentum * v + g), which rebinds the name instead of updating the stored array: "
        "the velocities stay zero and every step is plain SGD. sgd_momentum fails (its "
        "momentum=0 part alone would pass), and so does train_loop's full-batch run with "
        "momentum 0.9; plain SGD at lr=0.1 still trains the digits networks well, so the "
        "training tests pass.",
    ),
    Mistake(
        name="loss-gradient-not-averaged",
        edits=(Edit(MLP, "    return float(loss), grad / n\n", "    return float(loss), grad\n"),),
        loses=("softmax_cross_entropy", "softmax_stability", "train_loop", *TRAINING),
        description="softmax_cross_entropy returns the mean loss but the gradient of the "
        "summed loss (it forgets to divide by the batch size). Both softmax tests fail on the "
        "gradient, train_loop's full-batch run takes steps 37 times too long, and training, in "
        "effect at a learning rate 32 times too large, diverges: the three training tests "
        "fail. The layers, the MLP's backward pass and SGD are right and keep their points.",
    ),
    Mistake(
        name="sigmoid-derivative-of-input",
        edits=(
            KEEP_SIGMOID_INPUT,
            Edit(
                MLP,
                "        return grad_out * self.out * (1.0 - self.out)\n",
                "        return grad_out * self.x * (1.0 - self.x)\n",
            ),
        ),
        loses=("sigmoid", "sigmoid_stability"),
        description="Sigmoid.backward computes s(1 - s) with the input x in place of the output "
        "s = sigmoid(x). Both sigmoid tests fail on the backward pass; the MLP tests check "
        "sigmoid networks only forward, and the graded networks use ReLU and tanh.",
    ),
    Mistake(
        name="sigmoid-overflows",
        edits=(
            Edit(
                MLP,
                "        self.out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
                "        self.out = np.exp(x) / (1.0 + np.exp(x))\n",
            ),
        ),
        loses=("sigmoid_stability",),
        description="Sigmoid.forward computes exp(x) / (1 + exp(x)): right for ordinary inputs, "
        "but exp(x) is inf beyond x = 709 and inf / inf is nan, forward and (through the "
        "output) backward. Only sigmoid_stability, with inputs up to ±1000, fails.",
    ),
    Mistake(
        name="sigmoid-backward-overflows",
        edits=(
            KEEP_SIGMOID_INPUT,
            Edit(
                MLP,
                "        return grad_out * self.out * (1.0 - self.out)\n",
                "        e = np.exp(-self.x)\n        return grad_out * e / (1.0 + e) ** 2\n",
            ),
        ),
        loses=("sigmoid_stability",),
        description="Sigmoid.forward is stable, but backward differentiates the textbook "
        "formula, exp(-x) / (1 + exp(-x))**2, which is inf / inf = nan below x = -709. Only "
        "sigmoid_stability fails, on its backward pass.",
    ),
    Mistake(
        name="tanh-from-exponentials",
        edits=(
            Edit(
                MLP,
                "        self.out = np.tanh(x)\n",
                "        self.out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))\n",
            ),
        ),
        loses=("tanh_stability",),
        description="Tanh.forward computes (e^x - e^-x) / (e^x + e^-x), which is inf / inf = nan "
        "for |x| beyond 709, forward and (through the output) backward. Only tanh_stability "
        "fails: the retrained tanh network's pre-activations stay far below that.",
    ),
    Mistake(
        name="he-init-variance-as-std",
        edits=(
            Edit(
                MLP,
                "rng.normal(0.0, np.sqrt(2.0 / in_features), size=(in_features, out_features))",
                "rng.normal(0.0, 2.0 / in_features, size=(in_features, out_features))",
            ),
        ),
        loses=("linear_init",),
        description="Linear draws W with standard deviation 2 / in_features, He's variance, "
        "instead of its square root: the weights start 5.7 times (64 inputs) to 12 times (300) "
        "too small. linear_init fails; the digits networks still train from that start, so "
        "the training tests pass.",
    ),
    Mistake(
        name="mlp-reseeds-every-layer",
        edits=(
            Edit(
                MLP,
                "            self.layers.append(Linear(sizes[i], sizes[i + 1], rng))\n",
                "            self.layers.append(\n"
                "                Linear(sizes[i], sizes[i + 1], np.random.default_rng(seed))\n"
                "            )\n",
            ),
        ),
        loses=("linear_init",),
        description="MLP gives each Linear layer a new np.random.default_rng(seed) instead of "
        "drawing all of them in order from one, so every layer starts from the same random "
        "numbers. linear_init fails; training does not suffer from it.",
    ),
    Mistake(
        name="mlp-always-relu",
        edits=(
            Edit(
                MLP,
                "                self.layers.append(ACTIVATIONS[activation]())\n",
                "                self.layers.append(ReLU())\n",
            ),
        ),
        loses=("mlp_activations", "retrain"),
        description="MLP puts ReLU between its layers whatever the activation asked for. The "
        "sigmoid and tanh networks of mlp_activations give the wrong logits, and the retrained "
        "network, asked for tanh, is trained as a ReLU network: its weights, read with tanh "
        "by the grader, classify the held-out digits badly.",
    ),
    Mistake(
        name="linear-gradients-accumulate",
        edits=(
            Edit(
                MLP,
                """        self.dW = self.x.T @ grad_out
        self.db = grad_out.sum(axis=0)
""",
                """        self.dW += self.x.T @ grad_out
        self.db += grad_out.sum(axis=0)
""",
            ),
        ),
        loses=("linear_backward", "mlp_backward", "train_loop", *TRAINING),
        description="Linear.backward adds the new gradients to dW and db instead of "
        "overwriting them, so grads() holds the sum of every backward pass so far. The first "
        "backward is right; the second one of linear_backward and mlp_backward is not, "
        "train_loop's full-batch run steps on summed gradients, and training diverges.",
    ),
    Mistake(
        name="train-drops-last-batch",
        edits=(
            Edit(
                MLP,
                "        for start in range(0, len(x), batch_size):\n",
                "        for start in range(0, len(x) - batch_size + 1, batch_size):\n",
            ),
        ),
        loses=("train_loop",),
        description="train() takes only full batches, dropping the smaller last one of each "
        "epoch (17 of the 1297 digits, 5 of train_loop's 37 examples) and, when the batch is "
        "larger than the data, everything. train_loop fails; the digits networks train as "
        "well, so the training tests pass.",
    ),
    Mistake(
        name="train-shuffles-once",
        edits=(
            Edit(
                MLP,
                """    for _ in range(epochs):
        order = rng.permutation(len(x))
""",
                """    order = rng.permutation(len(x))
    for _ in range(epochs):
""",
            ),
        ),
        loses=("train_loop",),
        description="train() draws one random order before the first epoch and visits the "
        "examples in that order every epoch instead of in a new one. train_loop fails; the "
        "training tests pass.",
    ),
    Mistake(
        name="sgd-created-every-epoch",
        edits=(
            Edit(
                MLP,
                """    optimizer = SGD(model.params(), lr=lr, momentum=momentum)
    losses = []
    for _ in range(epochs):
""",
                """    losses = []
    for _ in range(epochs):
        optimizer = SGD(model.params(), lr=lr, momentum=momentum)
""",
            ),
        ),
        loses=("train_loop",),
        description="train() makes a new SGD every epoch, so the velocities restart from zero "
        "at each epoch instead of carrying over. With one batch per epoch momentum then has no "
        "effect, and train_loop's full-batch run fails; the digits networks train as well.",
    ),
    Mistake(
        name="epoch-loss-unweighted",
        edits=(
            Edit(MLP, "            total += loss * len(batch)\n", "            total += loss\n"),
            Edit(
                MLP,
                "        losses.append(total / len(x))\n",
                "        losses.append(total / -(-len(x) // batch_size))\n",
            ),
        ),
        loses=("train_loop",),
        description="train() returns the plain mean of each epoch's batch losses, so the "
        "smaller last batch counts as much as a full one, instead of the mean over the epoch's "
        "examples. With lr=0, train_loop's losses differ from the loss of the whole set; the "
        "loss curve of the training tests is only shown, so they pass.",
    ),
]

if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
