"""Outputs: a grader reads what an untrusted run wrote, never following it or running it."""

from __future__ import annotations

import io
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from grading.outputs import BadOutput, Outputs


class Plant:
    """Unpickling this runs ``Path.touch`` on the marker: proof that a loader executed code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_it_reads_json(out):
    (out / "metrics.json").write_text(json.dumps({"accuracy": 0.9}))
    assert Outputs(out).json("metrics.json") == {"accuracy": 0.9}


def test_it_reads_a_file_in_a_subfolder(out):
    (out / "curves").mkdir()
    (out / "curves" / "loss.txt").write_text("0.5\n0.25\n")
    assert Outputs(out).text("curves/loss.txt") == "0.5\n0.25\n"


def test_it_reads_an_npy_array(out):
    np.save(out / "predictions.npy", np.arange(6.0).reshape(2, 3))
    assert Outputs(out).npy("predictions.npy").tolist() == [[0, 1, 2], [3, 4, 5]]


def test_it_reads_tensors(out):
    torch.save({"weight": torch.ones(2, 2)}, out / "model.pt")
    assert Outputs(out).torch("model.pt")["weight"].sum().item() == 4.0


def test_it_refuses_a_link_to_a_secret(out):
    (out / "metrics.json").symlink_to("/etc/passwd")
    with pytest.raises(BadOutput, match="symbolic link"):
        Outputs(out).text("metrics.json")


def test_it_refuses_a_linked_subfolder(out):
    (out / "curves").symlink_to("/etc")
    with pytest.raises(BadOutput, match="out/curves is a link"):
        Outputs(out).text("curves/passwd")


def test_it_refuses_an_output_folder_that_became_a_link(tmp_path):
    (tmp_path / "out").symlink_to("/etc")
    with pytest.raises(BadOutput, match="out/ is a link"):
        Outputs(tmp_path / "out").text("passwd")


@pytest.mark.parametrize("name", ["../secret.json", "curves/../../secret.json", "/etc/passwd"])
def test_it_refuses_a_name_leading_outside(out, name):
    (out.parent / "secret.json").write_text("{}")
    with pytest.raises(BadOutput, match="not a"):
        Outputs(out).json(name)


def test_it_refuses_a_file_over_the_cap(out):
    (out / "big.txt").write_text("x" * 11)
    with pytest.raises(BadOutput, match="the limit is 10 bytes"):
        Outputs(out, max_bytes=10).text("big.txt")


def test_it_refuses_a_missing_file(out):
    with pytest.raises(BadOutput, match=r"out/absent\.json is missing"):
        Outputs(out).json("absent.json")


def test_it_refuses_a_fifo_without_waiting_for_a_writer(out):
    os.mkfifo(out / "stuck.json")
    with pytest.raises(BadOutput, match="not a regular file"):
        Outputs(out).json("stuck.json")


def test_it_refuses_a_second_name_for_another_file(out, tmp_path):
    (tmp_path / "found.txt").write_text("a file the run did not write")
    os.link(tmp_path / "found.txt", out / "copy.txt")
    with pytest.raises(BadOutput, match="hard links"):
        Outputs(out).text("copy.txt")


def test_it_refuses_invalid_json(out):
    (out / "metrics.json").write_text("{'accuracy': 0.9}")
    with pytest.raises(BadOutput, match="not valid JSON"):
        Outputs(out).json("metrics.json")


def test_it_refuses_text_that_is_not_utf8(out):
    (out / "log.txt").write_bytes(b"\xff\xfe")
    with pytest.raises(BadOutput, match="not UTF-8"):
        Outputs(out).text("log.txt")


def test_it_refuses_an_npy_holding_a_pickle(out, tmp_path):
    marker = tmp_path / "ran"
    np.save(out / "objects.npy", np.array([Plant(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(BadOutput, match="Python objects"):
        Outputs(out).npy("objects.npy")
    assert not marker.exists()


def test_it_refuses_a_bare_pickle_named_npy(out, tmp_path):
    marker = tmp_path / "ran"
    (out / "array.npy").write_bytes(pickle.dumps(Plant(marker)))
    with pytest.raises(BadOutput, match=r"not a readable \.npy"):
        Outputs(out).npy("array.npy")
    assert not marker.exists()


def test_it_refuses_an_npy_whose_header_claims_more_than_its_data(out):
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    np.lib.format.write_array_header_1_0(buffer, header)
    (out / "huge.npy").write_bytes(buffer.getvalue() + bytes(32))
    with pytest.raises(BadOutput, match="does not match its data"):
        Outputs(out).npy("huge.npy")


def test_it_refuses_an_npz_archive(out):
    np.savez(out / "arrays.npy", a=np.zeros(2))
    (out / "arrays.npy.npz").rename(out / "arrays.npy")
    with pytest.raises(BadOutput, match=r"not a readable \.npy"):
        Outputs(out).npy("arrays.npy")


def test_it_refuses_a_torch_file_with_a_pickled_callable(out, tmp_path):
    marker = tmp_path / "ran"
    torch.save({"weight": torch.ones(1), "payload": Plant(marker)}, out / "model.pt")
    with pytest.raises(BadOutput, match="not a tensor file that loads safely"):
        Outputs(out).torch("model.pt")
    assert not marker.exists()
