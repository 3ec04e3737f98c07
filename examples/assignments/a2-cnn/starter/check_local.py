"""Checks your layers.py and cnn.py on your own machine, the way the autograder's visible tests do.

    python check_local.py           # both parts
    python check_local.py layers    # conv2d and max-pooling against torch.nn.functional
    python check_local.py cnn       # trains your CNN and reports a validation accuracy

Needs numpy, torch and scikit-learn (and matplotlib for filters.png). The autograder uses other
random inputs and other held-out digits, so passing here is a good sign, not a promise.
"""

import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

TOLERANCE = 1e-5  # of the largest reference value (at least 1), as the autograder
CONV_CASES = [  # x shape, w shape, stride, padding
    ((2, 3, 7, 7), (4, 3, 3, 3), 1, 1),
    ((2, 2, 9, 8), (3, 2, 3, 2), (2, 1), (1, 2)),
    ((3, 4, 10, 11), (5, 4, 3, 3), 2, 0),
    ((1, 1, 5, 5), (2, 1, 5, 5), 1, 0),
    ((2, 2, 9, 7), (3, 2, 2, 3), (3, 2), (0, 1)),
]
POOL_CASES = [  # x shape, kernel_size, stride
    ((2, 3, 8, 8), 2, None),
    ((2, 2, 7, 9), 3, 2),
    ((1, 4, 6, 6), 2, 1),
    ((3, 1, 6, 10), (2, 3), (2, 3)),
    ((2, 3, 4, 4), 4, None),
]


def pair(value):
    return (value, value) if isinstance(value, int) else value


def close(name, got, expected):
    got, expected = np.asarray(got), expected.detach().numpy()
    if got.shape != expected.shape:
        print(f"    {name}: shape {got.shape}, expected {expected.shape}")
        return False
    error = np.abs(got - expected).max()
    ok = error <= TOLERANCE * max(1.0, np.abs(expected).max())
    print(f"    {name}: {'ok' if ok else 'WRONG'} (largest difference {error:.2e})")
    return ok


def unchanged(name, given, originals):
    """Whether the arrays ``given`` to a layer function still hold their ``originals``' values."""
    changed = [key for key in given if not np.array_equal(given[key], originals[key])]
    if changed:
        print(f"    {name} changed its input {', '.join(changed)} in place: WRONG")
    return not changed


def check_layers():
    import layers

    rng = np.random.default_rng()
    passed = total = 0
    for x_shape, w_shape, stride, padding in CONV_CASES:
        print(f"conv2d x {x_shape}, w {w_shape}, stride {stride}, padding {padding}")
        x, w, b = (
            rng.standard_normal(x_shape),
            rng.standard_normal(w_shape),
            rng.standard_normal(w_shape[0]),
        )
        xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
        out_t = F.conv2d(xt, wt, bt, stride=pair(stride), padding=pair(padding))
        dout = rng.standard_normal(tuple(out_t.shape))
        out_t.backward(torch.from_numpy(dout))
        given = {"x": x, "w": w, "b": b, "dout": dout}
        originals = {key: array.copy() for key, array in given.items()}
        try:
            out, cache = layers.conv2d_forward(x, w, b, stride, padding)
            results = [close("out", out, out_t)]
            dx, dw, db = layers.conv2d_backward(dout, cache)
            results += [
                close("dx", dx, xt.grad),
                close("dw", dw, wt.grad),
                close("db", db, bt.grad) and unchanged("conv2d", given, originals),
            ]
        except NotImplementedError as error:
            print(f"    not implemented yet: {error}")
            results = [False] * 4
        passed, total = passed + sum(results), total + 4
    for x_shape, kernel, stride in POOL_CASES:
        print(f"maxpool2d x {x_shape}, kernel_size {kernel}, stride {stride}")
        x = rng.standard_normal(x_shape)
        xt = torch.tensor(x, requires_grad=True)
        out_t = F.max_pool2d(xt, kernel, stride if stride is not None else kernel)
        dout = rng.standard_normal(tuple(out_t.shape))
        out_t.backward(torch.from_numpy(dout))
        given = {"x": x, "dout": dout}
        originals = {key: array.copy() for key, array in given.items()}
        try:
            out, cache = layers.maxpool2d_forward(x, kernel, stride)
            results = [close("out", out, out_t)]
            dx = layers.maxpool2d_backward(dout, cache)
            results.append(close("dx", dx, xt.grad) and unchanged("maxpool2d", given, originals))
        except NotImplementedError as error:
            print(f"    not implemented yet: {error}")
            results = [False] * 2
        passed, total = passed + sum(results), total + 2
    print(f"layers: {passed} of {total} checks passed\n")


def check_cnn():
    import cnn
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    images = torch.from_numpy((digits.images[order] / 16.0).astype(np.float32)[:, None])
    labels = torch.from_numpy(digits.target[order].astype(np.int64))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(1)  # the autograder trains on one CPU core
    for seed_of in (random.seed, np.random.seed, torch.manual_seed):
        seed_of(0)
    try:
        model = cnn.build_model().to(device)
        print(f"model: {sum(p.numel() for p in model.parameters()):,} parameters")
        model.eval()
        with torch.no_grad():
            for count in (5, 1):
                shape = tuple(model(images[:count].to(device)).shape)
                verdict = "ok" if shape == (count, 10) else "WRONG"
                print(f"scores for {count} digits: {shape} ({verdict}, expected ({count}, 10))")
        started = time.monotonic()
        losses = cnn.train(model, images[:1200], labels[:1200], device)
    except NotImplementedError as error:
        print(f"cnn: not implemented yet: {error}")
        return
    print(f"trained in {time.monotonic() - started:.1f} s on {device}")
    if not isinstance(losses, list | tuple) or not losses:
        print(f"train() returned {losses!r}: WRONG, it must return a list of losses, one per epoch")
        losses = []
    print("loss per epoch: " + " ".join(f"{float(loss):.3f}" for loss in losses))
    model.eval()
    with torch.no_grad():
        predictions = model(images[1200:].to(device)).argmax(dim=1).cpu()
    accuracy = (predictions == labels[1200:]).float().mean().item()
    print(f"validation accuracy: {accuracy:.4f} (the autograder needs 0.90, then 0.95)")


if __name__ == "__main__":
    parts = sys.argv[1:] or ["layers", "cnn"]
    if "layers" in parts:
        check_layers()
    if "cnn" in parts:
        check_cnn()
