"""Runs after the driver, in a sandbox of its own: scores what driver.py wrote. Outputs are read
only through ``outputs``, whose loaders cannot run code; nothing the run claims about itself is
believed.

The layer tests compare the student's arrays with private/layer_references.npz: what PyTorch
(torch.nn.functional.conv2d and max_pool2d, autograd for the gradients) computes in float64 on
the inputs of public/layer_cases.py (the driver's own cases), written by make_data.py. The CNN
tests score the driver's predictions of the held-out
digits against labels that exist only in private/.
"""

import math
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

# The cases the driver ran: the bundle's public/ is the grader's too (read-only).
sys.path.insert(0, str(Path(__file__).resolve().parent / "public"))
import layer_cases

from grading.outputs import BadOutput

NEEDED_ACCURACY = 0.90  # cnn_heldout_accuracy, shown at once but only as passed/failed
NEEDED_ACCURACY_HIGH = 0.95  # cnn_heldout_accuracy_high, with the accuracy, after the due date
RELATIVE_TOLERANCE = 1e-5  # of the largest reference value (at least 1): float32 work passes
FILTERS_PNG_SIZE = (320, 320)
MAX_FILTERS = 64
MAX_PARAMETERS = 100_000
# cnn_model runs the model on batches of these sizes (real digits): the scores must be (N, 10).
BATCHES = ("5", "1")
ERROR_CHARS = 1500


# What reading a report that the student's code overwrote with nonsense can raise.
MALFORMED = (TypeError, ValueError, KeyError, IndexError, AttributeError)


class Failed(Exception):
    """A check the submission did not pass; the message is what the student reads."""


def grade(outputs, private, run):
    points = run["points"]
    with np.load(private / "layer_references.npz", allow_pickle=False) as references:
        results = [layer_test(name, points[name], outputs, references) for name in LAYER_TESTS]
    for name, check in CNN_TESTS.items():
        try:
            score, message = check(outputs, private, points[name])
            status = "passed" if score >= points[name] else "failed"
        except (BadOutput, Failed) as failure:
            score, status, message = 0, "failed", str(failure)
        except MALFORMED as error:
            score, status, message = 0, "failed", f"The run's report is malformed ({error!r})."
        results.append({"name": name, "score": score, "status": status, "output": message})
    return results


# --- the layers ----------------------------------------------------------------------------


CONV_OUT = ("out", "conv2d_forward's out")
CONV_DX, CONV_DW = ("dx", "conv2d_backward's dx"), ("dw", "conv2d_backward's dw")
CONV_DB = ("db", "db")  # always checked right after dw: "conv2d_backward's dw and db"
POOL_OUT = ("out", "maxpool2d_forward's out")
POOL_DX = ("dx", "maxpool2d_backward's dx")
# Each test: the driver's report it reads, its cases, and the arrays checked per case, each
# as (the file's name after the case's stem, the reference's key, what the student reads).
LAYER_CHECKS = {
    "conv_forward": ("conv_forward", "CONV_CASES", [[("", *CONV_OUT)]]),
    "conv_backward_input": ("conv_backward", "CONV_CASES", [[("_dx", *CONV_DX)]]),
    "conv_backward_params": (
        "conv_backward",
        "CONV_CASES",
        [[("_dw", *CONV_DW), ("_db", *CONV_DB)]],
    ),
    "maxpool_forward": ("maxpool_forward", "POOL_CASES", [[("", *POOL_OUT)]]),
    "maxpool_backward": ("maxpool_backward", "POOL_CASES", [[("_dx", *POOL_DX)]]),
}
# The corner cases score the forward output and each gradient on their own.
EDGE_CONV_PARTS = [
    [("_out", *CONV_OUT)],
    [("_dx", *CONV_DX)],
    [("_dw", *CONV_DW), ("_db", *CONV_DB)],
]
EDGE_POOL_PARTS = [[("_out", *POOL_OUT)], [("_dx", *POOL_DX)]]


def layer_items(name, references):
    """A layer test's checks: (the driver's report, case index, case, [(file, reference, what)])."""
    if name == "layers_edge_cases":
        source = name
        cases = layer_cases.EDGE_CONV_CASES + layer_cases.EDGE_POOL_CASES
    else:
        source, cases_name, parts = LAYER_CHECKS[name]
        cases = getattr(layer_cases, cases_name)
    items = []
    for index, case in enumerate(cases):
        if name == "layers_edge_cases":
            parts = EDGE_CONV_PARTS if "w" in case else EDGE_POOL_PARTS
        for part in parts:
            checks = [
                (f"{source}_{index}{suffix}.npy", references[f"{case['seed']}_{key}"], what)
                for suffix, key, what in part
            ]
            items.append((source, index, case, checks))
    return items


LAYER_TESTS = (
    "conv_forward",
    "conv_backward_input",
    "conv_backward_params",
    "maxpool_forward",
    "maxpool_backward",
    "layers_edge_cases",
)


def layer_test(name, points, outputs, references):
    """Scores a layer test case by case: each check passed earns its share of the points."""
    reports, errors, lines = {}, {}, []
    passed = 0
    items = layer_items(name, references)
    for source, index, case, checks in items:
        label = f"case {index + 1} ({layer_cases.describe(case)})"
        try:
            if source not in reports:
                reports[source] = outputs.json(f"{source}.json").get("cases", [])
            report = reports[source][index]
            for file, reference, what in checks:
                compare(outputs, file, reference, what, report, errors)
        except BadOutput as failure:
            lines.append(f"{label}: {failure.message}")
        except Failed as failure:
            lines.append(f"{label}: {failure}")
        except MALFORMED as error:
            lines.append(f"{label}: the run's report is malformed ({error!r}).")
        else:
            passed += 1
            lines.append(f"{label}: {' and '.join(what for _, _, what in checks)} correct.")
    score = points * passed / len(items)
    summary = f"{passed} of {len(items)} checks passed."
    if name == "layers_edge_cases":
        summary += " Each corner case checks the forward output and each gradient on its own."
    status = "passed" if passed == len(items) else "failed"
    return {"name": name, "score": score, "status": status, "output": "\n".join([summary, *lines])}


def compare(outputs, file, reference, what, report, errors):
    """Raises Failed unless out/<file> holds ``reference`` (the case's error if it is missing)."""
    try:
        got = outputs.npy(file)
    except BadOutput:
        if isinstance(report, dict) and report.get("ok") is False:
            raise Failed(raised(report.get("error"), errors)) from None
        raise
    if got.dtype.kind not in "iuf":
        raise Failed(f"{what} holds {got.dtype} values, not real numbers.")
    if got.shape != reference.shape:
        raise Failed(f"{what} has shape {got.shape}; expected {reference.shape}.")
    if not np.all(np.isfinite(got)):
        raise Failed(f"{what} holds NaN or infinite values.")
    scale = max(1.0, float(np.abs(reference).max()))
    error = float(np.abs(got.astype(np.float64) - reference).max())
    if error > RELATIVE_TOLERANCE * scale:
        raise Failed(
            f"{what} differs from PyTorch's: the largest difference is {error:.3g} "
            f"(the values are up to {scale:.3g} in size)."
        )


def raised(error, errors):
    """The message for a case whose code raised ``error``; an error seen before is only named."""
    text = str(error)[-ERROR_CHARS:].rstrip()
    last_line = text.splitlines()[-1] if text else "an error"
    if text in errors:
        return f"raised {last_line} (as {errors[text]})."
    errors[text] = "above"
    return "your code raised an error:\n    " + text.replace("\n", "\n    ")


# --- the CNN -------------------------------------------------------------------------------


def cnn_model(outputs, private, points):
    """The interface of cnn.py: the model's first convolution, scores and size, its filters
    drawn, and the losses train() returned (when it returned: a crash is the accuracy tests')."""
    facts = reported(outputs, "cnn_model.json")
    conv = first_conv(facts)
    shapes = facts.get("output_shapes")
    if not isinstance(shapes, dict) or any(shapes.get(n) != [int(n), 10] for n in BATCHES):
        got = " and ".join(f"{shapes.get(n)} for {n}" for n in BATCHES) if shapes else shapes
        raise Failed(
            "For a batch of N digits (N, 1, 8, 8) the model must return scores of shape (N, 10); "
            f"it returned scores of shape {got}."
        )
    parameters = facts.get("parameters")
    if not isinstance(parameters, int) or parameters > MAX_PARAMETERS:
        raise Failed(f"The model has {parameters} parameters; at most {MAX_PARAMETERS} allowed.")
    if "filters_png" not in facts:
        error = str(facts.get("filters_error", "the driver did not say why"))[-ERROR_CHARS:]
        raise Failed(f"The first convolution's filters could not be drawn:\n{error}")
    width, height = png_size(outputs.raw("filters.png"))
    if (width, height) != FILTERS_PNG_SIZE:
        raise Failed(f"out/filters.png is {width}x{height}; the driver draws {FILTERS_PNG_SIZE}.")
    epochs = returned_losses(outputs.json("cnn_training.json"))
    kernel = "x".join(str(size) for size in conv.get("kernel_size", []))
    return points, (
        f"build_model() gives scores of shape (N, 10) for batches of {' and '.join(BATCHES)} "
        f"digits; {parameters:,} parameters. The first convolution the digits go through "
        f"({weights_of(conv)}) takes 1 input channel and has {conv['out_channels']} filters of "
        f"{kernel}.{epochs}\n"
        f"Those filters, after training, are drawn in out/filters.png "
        f"({width}x{height} PNG, one grey square per filter, light = larger weight)."
    )


def first_conv(facts):
    """The first convolution the digits went through, if it takes 1 channel and has at most
    MAX_FILTERS filters; Failed otherwise."""
    conv = facts.get("first_conv")
    if not isinstance(conv, dict):
        raise Failed(
            "The digits go through no 2-D convolution in your model (no nn.Conv2d layer, no "
            "F.conv2d call); the first one they meet must take 1 input channel."
        )
    if conv.get("in_channels") != 1 or not 1 <= conv.get("out_channels", 0) <= MAX_FILTERS:
        raise Failed(
            f"The first convolution the digits go through ({weights_of(conv)}) must take 1 input "
            f"channel and have 1 to {MAX_FILTERS} filters; it takes {conv.get('in_channels')} "
            f"and has {conv.get('out_channels')}."
        )
    return conv


def weights_of(conv):
    """Where the convolution's weights are, as the student reads it: the parameter's name."""
    parameter = conv.get("parameter")
    if isinstance(parameter, str):
        return f"weights {parameter}"
    return "weights computed in the forward pass"


def returned_losses(training):
    """A sentence on train()'s losses, or Failed if it returned something else. A train() that
    raised is left to the accuracy tests, which show its error."""
    if not isinstance(training, dict) or training.get("ok") is not True:
        return " train() did not finish: see cnn_heldout_accuracy."
    losses = training.get("losses")
    if not isinstance(losses, list) or not losses:
        returned = training.get("returned")
        if losses == []:
            what = "an empty list"
        elif returned == "NoneType":
            what = "None (is its return statement missing?)"
        else:
            what = f"a {returned}, not a sequence of numbers"
        raise Failed(
            f"train() must return the mean training loss of each epoch, a list of floats; it "
            f"returned {what}."
        )
    if not all(isinstance(loss, int | float) and math.isfinite(loss) for loss in losses):
        raise Failed(
            "train() returned losses that are not all finite numbers:\n" + training_curve(training)
        )
    return f" train() returned {len(losses)} epoch losses."


def cnn_heldout_accuracy(outputs, private, points):
    accuracy, curve = heldout_accuracy(outputs, private)
    if accuracy >= NEEDED_ACCURACY:
        return points, f"Held-out accuracy is at least {NEEDED_ACCURACY:.2f}.\n{curve}"
    raise Failed(f"Held-out accuracy is below {NEEDED_ACCURACY:.2f}.\n{curve}")


def cnn_heldout_accuracy_high(outputs, private, points):
    accuracy, curve = heldout_accuracy(outputs, private)
    message = f"Held-out accuracy {accuracy:.4f}; {NEEDED_ACCURACY_HIGH:.2f} is needed.\n{curve}"
    if accuracy >= NEEDED_ACCURACY_HIGH:
        return points, message
    raise Failed(message)


CNN_TESTS = {
    "cnn_model": cnn_model,
    "cnn_heldout_accuracy": cnn_heldout_accuracy,
    "cnn_heldout_accuracy_high": cnn_heldout_accuracy_high,
}


def reported(outputs, name):
    """The driver's report ``name``, or Failed with the error the student's code raised."""
    answer = outputs.json(name)
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise Failed(f"Your code raised an error:\n{str(error)[-ERROR_CHARS:]}")
    return answer


def heldout_accuracy(outputs, private):
    """The accuracy of the driver's predictions on the held-out digits, and the training curve."""
    training = reported(outputs, "cnn_training.json")
    labels = np.load(private / "heldout_labels.npy", allow_pickle=False)
    predictions = outputs.npy("cnn_heldout_pred.npy")
    if predictions.shape != labels.shape or predictions.dtype.kind not in "iu":
        raise Failed("The held-out predictions are missing or malformed.")
    return float(np.mean(predictions == labels)), training_curve(training)


def training_curve(training):
    losses = training.get("losses")
    if not isinstance(losses, list) or not losses:
        return "train() returned no losses (it should return the mean loss of each epoch)."
    shown = " ".join(
        f"{loss:.3f}" if isinstance(loss, int | float) else "?" for loss in losses[:100]
    )
    more = f" ... ({len(losses)} epochs)" if len(losses) > 100 else ""
    seconds, device = training.get("seconds"), training.get("device")
    where = f"\nTraining took {seconds} s on {device}." if isinstance(seconds, int | float) else ""
    return f"Loss per epoch: {shown}{more}{where}"[:4000]


def png_size(data):
    """(width, height) of a well-formed PNG: signature, chunk CRCs, IHDR first, IEND last, and
    image data that inflates to exactly the size IHDR announces. Raises Failed otherwise.
    """
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise Failed("out/filters.png is not a PNG file.")
    position, chunks, idat = 8, [], []
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if position + 12 + length > len(data):
            raise Failed("out/filters.png is cut short.")
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise Failed("out/filters.png is damaged (a chunk's checksum does not match).")
        chunks.append(kind)
        if kind == b"IDAT":
            idat.append(body)
        position += 12 + length
    if not chunks or chunks[0] != b"IHDR" or chunks[-1] != b"IEND" or not idat:
        raise Failed("out/filters.png is not a complete PNG image.")
    header = data[16:29]
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color)
    if channels is None or depth != 8 or interlace != 0:
        raise Failed("out/filters.png is not an 8-bit non-interlaced PNG as matplotlib writes.")
    expected = height * (1 + width * channels)
    inflater = zlib.decompressobj()
    try:
        pixels = inflater.decompress(b"".join(idat), expected + 1)
    except zlib.error:
        raise Failed("out/filters.png's image data is damaged.") from None
    if len(pixels) != expected:
        raise Failed("out/filters.png's image data does not match its size.")
    return width, height
