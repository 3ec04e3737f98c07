"""Loading a bundle: the worked example loads, and every bad bundle is refused by name."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from grading.bundles import BundleError, load_bundle, missing_packages
from grading.sandbox import Limits
from tests.conftest import REPO

EXAMPLES = REPO / "examples" / "autograders"
VALID = """\
name = "tiny"

[submission]
files = ["answer.py"]

[limits]
wall_seconds = 30

[[tests]]
name = "one"
points = 1
"""


def make_bundle(folder: Path, manifest: str = VALID) -> Path:
    folder.mkdir()
    (folder / "autograder.toml").write_text(manifest)
    (folder / "driver.py").write_text("")
    (folder / "grader.py").write_text("")
    return folder


def refusal(folder: Path) -> str:
    with pytest.raises(BundleError) as refused:
        load_bundle(folder)
    return refused.value.message


def test_it_loads_the_worked_example():
    bundle = load_bundle(EXAMPLES / "linear-regression" / "bundle")
    assert (bundle.kind, bundle.files, bundle.max_score) == ("native", ("linreg.py",), 10.0)
    assert [(test.name, test.points, test.visibility) for test in bundle.tests] == [
        ("shapes", 2.0, "visible"),
        ("gradient", 3.0, "visible"),
        ("fit_quality", 5.0, "after_due_date"),
    ]


def test_it_turns_the_limits_into_sandbox_limits():
    bundle = load_bundle(EXAMPLES / "linear-regression" / "bundle")
    assert bundle.limits == Limits(
        wall_seconds=60, memory_bytes=1024 * 2**20, processes=16, output_bytes=256 * 1024
    )


def test_it_gives_default_limits(tmp_path):
    manifest = VALID.replace("[limits]\nwall_seconds = 30\n", "")
    assert load_bundle(make_bundle(tmp_path / "b", manifest)).limits == Limits()


def test_it_loads_a_zipped_bundle_and_removes_it_on_close(tmp_path):
    archive = tmp_path / "bundle.zip"
    source = EXAMPLES / "linear-regression" / "bundle"
    with zipfile.ZipFile(archive, "w") as bundle_zip:
        for path in sorted(source.rglob("*")):
            bundle_zip.write(path, Path("linear-regression") / path.relative_to(source))
    with load_bundle(archive) as bundle:
        root = bundle.root
        assert (bundle.name, (root / "private" / "test_labels.csv").is_file()) == (
            "Linear regression with numpy",
            True,
        )
    assert not root.exists()


def test_it_refuses_a_folder_without_a_manifest(tmp_path):
    (tmp_path / "b").mkdir()
    assert "autograder.toml is missing" in refusal(tmp_path / "b")


def test_it_refuses_a_missing_path(tmp_path):
    assert "cannot read the bundle" in refusal(tmp_path / "nowhere")


def test_it_refuses_a_file_that_is_not_a_zip(tmp_path):
    (tmp_path / "bundle.tar").write_bytes(b"not a zip")
    assert refusal(tmp_path / "bundle.tar") == "bundle.tar: a bundle is a folder or a .zip of one."


def test_it_refuses_a_toml_syntax_error(tmp_path):
    folder = make_bundle(tmp_path / "b", VALID.replace('name = "tiny"', "name = tiny"))
    assert refusal(folder).startswith("autograder.toml: not valid TOML: Invalid value (at line 1")


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ('name = "tiny"', 'name = "tiny"\ntitle = "x"', "autograder.toml: unknown key 'title'"),
        ("wall_seconds = 30", "wall_seconds = 30\ngpus = 1", "[limits] unknown key 'gpus'"),
        ('files = ["answer.py"]', 'files = ["a.py"]\nmain = "a.py"', "[submission] unknown key"),
        ("points = 1", "points = 1\nweight = 2", "[[tests]] #1 ('one') unknown key 'weight'"),
    ],
)
def test_it_refuses_an_unknown_key(tmp_path, before, after, message):
    assert message in refusal(make_bundle(tmp_path / "b", VALID.replace(before, after)))


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ('name = "tiny"', "name = 3", "autograder.toml: name must be a non-empty string"),
        ('files = ["answer.py"]', 'files = "answer.py"', "[submission] files must be a non-empty"),
        ('files = ["answer.py"]', "files = [1]", "[submission] files must hold strings"),
        ("wall_seconds = 30", 'wall_seconds = "30"', "[limits] wall_seconds must be an integer"),
        ("wall_seconds = 30", "wall_seconds = 30.5", "[limits] wall_seconds must be an integer"),
        ("wall_seconds = 30", "gpu = 1", "[limits] gpu must be true or false, not 1"),
        ("wall_seconds = 30", "job_mb = 8", "[limits] job_mb must be an integer from 16 to"),
        ("wall_seconds = 30", "cpus = 0", "[limits] cpus must be a number from 0.1 to 256, not 0"),
        ("wall_seconds = 30", 'cpus = "2"', "[limits] cpus must be a number from 0.1 to 256"),
        ("wall_seconds = 30", "cpus = true", "[limits] cpus must be a number from 0.1 to 256"),
        ("points = 1", 'points = "1"', "[[tests]] #1 ('one') points must be a number"),
        ("points = 1", "points = true", "[[tests]] #1 ('one') points must be a number"),
        ("[limits]\nwall_seconds = 30\n", "", "[limits] must be a table"),
    ],
)
def test_it_refuses_a_wrong_type(tmp_path, before, after, message):
    manifest = VALID.replace(before, after)
    if "[limits]" not in manifest:
        manifest = f"limits = 3\n{manifest}"
    assert message in refusal(make_bundle(tmp_path / "b", manifest))


@pytest.mark.parametrize("value", [0, 3601])
def test_it_refuses_a_wall_limit_out_of_range(tmp_path, value):
    folder = make_bundle(tmp_path / "b", VALID.replace("30", str(value)))
    assert "wall_seconds must be an integer from 1 to 3600" in refusal(folder)


def test_it_reads_the_job_folder_size_and_the_cpu_share(tmp_path):
    folder = make_bundle(
        tmp_path / "b", VALID.replace("wall_seconds = 30", "job_mb = 64\ncpus = 1.5")
    )
    with load_bundle(folder) as bundle:
        assert (bundle.limits.job_bytes, bundle.limits.cpus) == (64 * 1024 * 1024, 1.5)


def test_it_refuses_points_that_are_not_positive(tmp_path):
    folder = make_bundle(tmp_path / "b", VALID.replace("points = 1", "points = 0"))
    assert "[[tests]] #1 ('one') points must be more than 0" in refusal(folder)


@pytest.mark.parametrize("script", ["driver.py", "grader.py"])
def test_it_refuses_a_bundle_missing_a_script(tmp_path, script):
    folder = make_bundle(tmp_path / "b")
    (folder / script).unlink()
    assert refusal(folder) == f"{script} is missing: a bundle with autograder.toml needs one."


def test_it_refuses_duplicate_test_names(tmp_path):
    folder = make_bundle(tmp_path / "b", VALID + '[[tests]]\nname = "one"\npoints = 2\n')
    assert "the name 'one' is used twice" in refusal(folder)


def test_it_refuses_a_bundle_without_tests(tmp_path):
    manifest = VALID.split("[[tests]]")[0]
    assert "no [[tests]]" in refusal(make_bundle(tmp_path / "b", manifest))


def test_it_refuses_an_unknown_visibility(tmp_path):
    folder = make_bundle(tmp_path / "b", VALID + 'visibility = "students"\n')
    assert "('one') visibility must be one of visible, after_due_date" in refusal(folder)


def test_it_refuses_a_manifest_without_a_submission_table(tmp_path):
    manifest = VALID.replace('[submission]\nfiles = ["answer.py"]\n', "")
    assert "[submission] is missing" in refusal(make_bundle(tmp_path / "b", manifest))


@pytest.mark.parametrize("name", ["../answer.py", "/tmp/answer.py", "hw/./answer.py"])
def test_it_refuses_a_submission_file_that_could_point_outside(tmp_path, name):
    folder = make_bundle(tmp_path / "b", VALID.replace('"answer.py"', f'"{name}"'))
    assert f"files: '{name}' is not a plain relative name" in refusal(folder)


@pytest.mark.parametrize("name", ["driver.py", "out/answer.py", "public/data.csv"])
def test_it_refuses_a_submission_file_the_autograder_uses(tmp_path, name):
    folder = make_bundle(tmp_path / "b", VALID.replace('"answer.py"', f'"{name}"'))
    assert f"files: '{name}' is taken by the autograder" in refusal(folder)


def test_it_refuses_a_symlink_anywhere(tmp_path):
    folder = make_bundle(tmp_path / "b")
    (folder / "private").mkdir()
    (folder / "private" / "labels.csv").symlink_to("/etc/passwd")
    assert refusal(folder) == (
        "private/labels.csv: a symbolic link; a bundle holds only regular files and folders."
    )


def test_it_refuses_a_zipped_file_outside_the_bundle(tmp_path):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle_zip:
        bundle_zip.writestr("autograder.toml", VALID)
        bundle_zip.writestr("../grader.py", "")
    assert "bundle.zip: The entry '../grader.py' contains '..'" in refusal(archive)


@pytest.mark.parametrize("example", ["gradescope-hello", "gradescope-fib"])
def test_it_recognises_a_gradescope_bundle(example):
    bundle = load_bundle(EXAMPLES / example / "bundle")
    assert (bundle.kind, bundle.files, bundle.tests) == ("gradescope", (), [])


def test_it_lists_the_requirements_this_python_lacks(tmp_path):
    folder = tmp_path / "gs"
    shutil.copytree(EXAMPLES / "gradescope-hello" / "bundle", folder)
    (folder / "requirements.txt").write_text(
        "# what the tests import\nnumpy>=1.26\nGradescope_Utils\n"
        "surely-not-installed-here==1.0 ; python_version > '3'\n-r more.txt\n"
    )
    assert missing_packages(load_bundle(folder)) == ["surely-not-installed-here"]


def test_it_describes_its_manifest_for_storage():
    manifest = load_bundle(EXAMPLES / "linear-regression" / "bundle").manifest()
    assert manifest["limits"] == {
        "wall_seconds": 60,
        "memory_mb": 1024,
        "processes": 16,
        "output_kb": 256,
        "job_mb": 1024,
        "cpus": None,
        "gpu": False,
    }


def test_it_refuses_an_image_that_is_not_a_plain_png_name(tmp_path):
    import shutil

    import pytest

    from grading.bundles import BundleError, load_bundle
    from tests.grading.conftest import PIPELINE_BUNDLE

    bundle = tmp_path / "bundle"
    shutil.copytree(PIPELINE_BUNDLE, bundle)
    manifest = bundle / "autograder.toml"
    manifest.write_text('images = ["../secret.png"]\n' + manifest.read_text())
    with pytest.raises(BundleError, match=r"images: '\.\./secret\.png' is not a plain name"):
        load_bundle(bundle)


def test_it_reads_the_modules_a_warm_sandbox_imports_ahead():
    bundle = load_bundle(REPO / "examples" / "assignments" / "a2-cnn" / "bundle")
    assert bundle.preload == ("numpy", "torch", "torch._dynamo")
    assert bundle.manifest()["preload"] == ["numpy", "torch", "torch._dynamo"]
    assert load_bundle(EXAMPLES / "linear-regression" / "bundle").preload == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"torch"', "preload must be a list of at most 16 module names"),
        ("[" + ", ".join(['"numpy"'] * 17) + "]", "preload must be a list of at most 16"),
        ('["../torch"]', r"preload: '\.\./torch' is not a module name"),
        ('["torch; import os"]', r"preload: 'torch; import os' is not a module name"),
        ('["grader@/etc/passwd"]', r"preload: 'grader@/etc/passwd' is not a module name"),
        ("[3]", "preload: 3 is not a module name"),
    ],
)
def test_it_refuses_a_preload_that_is_not_a_list_of_module_names(tmp_path, value, message):
    from tests.grading.conftest import PIPELINE_BUNDLE

    bundle = tmp_path / "bundle"
    shutil.copytree(PIPELINE_BUNDLE, bundle)
    manifest = bundle / "autograder.toml"
    manifest.write_text(f"preload = {value}\n" + manifest.read_text())
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle)
