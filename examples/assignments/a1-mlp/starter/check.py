"""Public checks for A1. Run them next to your mlp.py:

    python check.py                # every check
    python check.py relu training  # only some

Linear's initialisation is checked on a large layer, each layer's backward pass is compared
with central finite differences of its forward pass, Sigmoid and Tanh are tried on huge inputs,
softmax_cross_entropy is compared with its definition and with finite differences, SGD with the
update rule of the README, train()'s losses at lr=0 with the loss of the whole set, and train()
trains the graded digits network on a split of scikit-learn's digits (needs scikit-learn; not
the autograder's held-out set). The autograder checks the same things
on other inputs, against PyTorch autograd. Needs only NumPy (and scikit-learn for "training").
"""

import sys
import traceback

import mlp
import numpy as np

TOLERANCE = 1e-5


def numerical_gradient(f, x, eps=1e-6):
    """d f() / d x by central differences; ``x`` is changed in place and restored."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def expect_close(what, got, expected, tolerance=TOLERANCE):
    got = np.asarray(got, dtype=np.float64)
    if got.shape != np.shape(expected):
        raise AssertionError(f"{what}: shape {got.shape}, expected {np.shape(expected)}")
    error = np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected)), initial=0.0)
    if not error <= tolerance:
        raise AssertionError(f"{what}: off by up to {error:.3g} (relative)")


def check_linear(rng):
    big = mlp.Linear(300, 200, np.random.default_rng(1))
    if big.W.shape != (300, 200) or np.any(big.b != 0):
        raise AssertionError("Linear(300, 200, rng): W must be (300, 200) and b zeros")
    if abs(big.W.std() / np.sqrt(2 / 300) - 1) > 0.03:
        raise AssertionError(f"W's standard deviation is {big.W.std():.4f}, not sqrt(2 / 300)")
    if not np.array_equal(mlp.Linear(300, 200, np.random.default_rng(1)).W, big.W):
        raise AssertionError("two generators seeded alike gave different W: draw W from rng")
    layer = mlp.Linear(5, 4, rng)
    if layer.W.shape != (5, 4) or layer.b.shape != (4,):
        raise AssertionError(f"W, b have shapes {layer.W.shape}, {layer.b.shape}")
    x, upstream = rng.normal(size=(6, 5)), rng.normal(size=(6, 4))
    layer.b = rng.normal(size=4)
    expect_close("forward", layer.forward(x), x @ layer.W + layer.b)
    grad_x = layer.backward(upstream)

    def objective():
        return np.sum(layer.forward(x) * upstream)

    expect_close("grad_x", grad_x, numerical_gradient(objective, x))
    expect_close("dW", layer.dW, numerical_gradient(objective, layer.W))
    expect_close("db", layer.db, numerical_gradient(objective, layer.b))


def check_activation(name, function, rng):
    layer = getattr(mlp, name)()
    x = rng.normal(size=(6, 7)) * 2
    x[np.abs(x) < 1e-3] = 0.5  # keep finite differences away from ReLU's kink
    upstream = rng.normal(size=(6, 7))
    expect_close("forward", layer.forward(x), function(x))
    grad_x = layer.backward(upstream)
    expect_close("grad_x", grad_x, numerical_gradient(lambda: np.sum(function(x) * upstream), x))


def check_relu(rng):
    check_activation("ReLU", lambda x: np.maximum(x, 0.0), rng)


def check_huge_inputs(name, expected):
    layer = getattr(mlp, name)()
    huge = np.array([[-1000.0, -750.0, 750.0, 1000.0]])
    expect_close(f"{name} of -1000, -750, 750, 1000", layer.forward(huge), expected)
    grad = layer.backward(np.ones_like(huge))
    expect_close(f"{name}'s gradient at -1000, -750, 750, 1000", grad, np.zeros_like(huge))


def check_sigmoid(rng):
    check_activation("Sigmoid", lambda x: 1.0 / (1.0 + np.exp(-x)), rng)
    check_huge_inputs("Sigmoid", np.array([[0.0, 0.0, 1.0, 1.0]]))


def check_tanh(rng):
    check_activation("Tanh", np.tanh, rng)
    check_huge_inputs("Tanh", np.array([[-1.0, -1.0, 1.0, 1.0]]))


def check_softmax_cross_entropy(rng):
    logits, labels = 3 * rng.normal(size=(8, 6)), rng.integers(0, 6, size=8)
    loss, grad = mlp.softmax_cross_entropy(logits, labels)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expect_close("loss", loss, -np.mean(np.log(probabilities[np.arange(8), labels])))
    numerical = numerical_gradient(lambda: mlp.softmax_cross_entropy(logits, labels)[0], logits)
    expect_close("grad", grad, numerical)


def check_softmax_stability(rng):
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]])
    loss, grad = mlp.softmax_cross_entropy(logits, np.array([1, 2]))
    if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
        raise AssertionError(f"not finite: loss {loss}, grad {grad}")
    expected = (1000.0 + np.log1p(np.exp(-1000.0) + np.exp(-2000.0)) + np.log1p(2 * np.exp(-1))) / 2
    expect_close("loss", loss, expected)


def check_mlp_backward(rng):
    for activation in ("relu", "sigmoid", "tanh"):
        model = mlp.MLP([7, 16, 12, 5], activation=activation, seed=0)
        shapes = [np.shape(p) for p in model.params()]
        if shapes != [(7, 16), (16,), (16, 12), (12,), (12, 5), (5,)]:
            raise AssertionError(f"params() shapes are {shapes}")
        x, upstream = rng.normal(size=(9, 7)), rng.normal(size=(9, 5))
        model.forward(x)
        model.backward(upstream)

        def objective(model=model, x=x, upstream=upstream):
            return np.sum(model.forward(x) * upstream)

        for i, (param, grad) in enumerate(zip(model.params(), model.grads(), strict=True)):
            expect_close(f"{activation}: grads()[{i}]", grad, numerical_gradient(objective, param))


def check_sgd_momentum(rng):
    for lr, momentum in ((0.1, 0.9), (0.05, 0.0)):
        params = [rng.normal(size=(4, 3)), rng.normal(size=3)]
        expected = [p.copy() for p in params]
        velocities = [np.zeros_like(p) for p in params]
        optimizer = mlp.SGD(params, lr=lr, momentum=momentum)
        for step in range(5):
            grads = [rng.normal(size=p.shape) for p in params]
            optimizer.step(grads)
            for p, v, g in zip(expected, velocities, grads, strict=True):
                v[...] = momentum * v + g
                p -= lr * v
            for i, (got, want) in enumerate(zip(params, expected, strict=True)):
                expect_close(f"lr={lr}, momentum={momentum}, step {step}, param {i}", got, want)


def check_train_loop(rng):
    """At lr=0 nothing changes, so each epoch's mean loss is the loss of all the examples."""
    x, y = rng.normal(size=(37, 7)), rng.integers(0, 5, size=37)
    model = mlp.MLP([7, 5], seed=0)
    expected = mlp.softmax_cross_entropy(model.forward(x), y)[0]
    losses = mlp.train(model, x, y, epochs=3, batch_size=8, lr=0.0, momentum=0.9, seed=0)
    expect_close("losses at lr=0 (each the mean loss of the 37 examples)", losses, [expected] * 3)


def check_training(rng):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(0).permutation(len(x))
    train, validation = order[:1300], order[1300:]
    model = mlp.MLP([64, 64, 10], activation="relu", seed=0)
    losses = mlp.train(
        model, x[train], y[train], epochs=20, batch_size=32, lr=0.1, momentum=0.9, seed=0
    )
    print("    loss per epoch:", " ".join(f"{loss:.3f}" for loss in losses))
    accuracy = np.mean(model.forward(x[validation]).argmax(axis=1) == y[validation])
    print(f"    validation accuracy: {accuracy:.3f}")
    if len(losses) != 20:
        raise AssertionError(f"train() returned {len(losses)} losses for 20 epochs")
    if accuracy < 0.9:
        raise AssertionError("validation accuracy below 0.90")


CHECKS = {
    "linear": check_linear,
    "relu": check_relu,
    "sigmoid": check_sigmoid,
    "tanh": check_tanh,
    "softmax_cross_entropy": check_softmax_cross_entropy,
    "softmax_stability": check_softmax_stability,
    "mlp_backward": check_mlp_backward,
    "sgd_momentum": check_sgd_momentum,
    "train_loop": check_train_loop,
    "training": check_training,
}


def main(names):
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        sys.exit(f"unknown checks {unknown}; the checks are {', '.join(CHECKS)}")
    failed = 0
    for name, check in CHECKS.items():
        if names and name not in names:
            continue
        print(f"{name} ...")
        try:
            check(np.random.default_rng(541))
        except NotImplementedError as error:
            failed += 1
            print(f"  TODO: {error} is not implemented yet")
        except Exception:
            failed += 1
            print("  FAILED\n" + traceback.format_exc(limit=-2))
        else:
            print("  ok")
    print(f"{failed} of the checks failed." if failed else "All checks passed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
