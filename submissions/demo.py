"""The demo semester's hand-ins: each demo student hands in the assignments due before the
as-of date, from the examples beside the demo's course file (the reference solution, one written
in another style, a flawed variant, a forgery or the starter), some late enough to draw on their
grace days. A flawed variant (``flawed/<mistake>``) is written from the reference solution and
the mistake the assignment's ``make_flawed.py`` lists, as the tests write it.

The hand-ins go through ``submission_create``, so their grading jobs are queued like any other
and the worker grades them with the real autograders when it runs.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path
from types import ModuleType

from django.contrib.auth.models import User
from django.core.files.uploadedfile import TemporaryUploadedFile

from coursesite.answers import answers_course_changed
from coursesite.demo import DemoPlayer, DemoSemester, demo_pdf, instant_shift
from coursesite.models import Course, Membership, ProjectGroup, Role
from submissions.models import Assignment, Deliverable, Extension, Submission
from submissions.scoring import course_scores_refresh
from submissions.services import submission_create


def early(hours: float) -> timedelta:
    return -timedelta(hours=hours)


def late(days: int, hours: float) -> timedelta:
    return timedelta(days=days, hours=hours)


# Where each assignment's examples are, from the course file's folder.
EXAMPLES = {
    "quiz-programming": "assignments/q0-numpy",
    "a1": "assignments/a1-mlp",
    "a2": "assignments/a2-cnn",
    "a3": "assignments/a3-rnn",
}
# What each student hands in (a folder of the examples) and when, from the due date. With the
# demo's 7 grace days and partial days counting: student03 spends 2 on A1, student02 1 and
# student05 3 on A2, student12 1 on A1; student09 spends 4 on A1, then hands A2 in 4 days late
# with 3 left, which earns nothing.
HANDINS: dict[str, dict[str, tuple[str, timedelta]]] = {
    # The programming quiz: student12 never hands it in.
    "quiz-programming": {
        "student01": ("solution", early(30)),
        "student02": ("solution-loops", early(3)),
        "student03": ("flawed/softmax-unstable", early(50)),
        "student04": ("solution", early(8)),
        "student05": ("flawed/standardize-sample-std", early(20)),
        "student06": ("solution", early(70)),
        "student07": ("flawed/distances-not-clipped", early(1)),
        "student08": ("solution-loops", early(26)),
        "student09": ("flawed/one-hot-off-by-one", early(4)),
        "student10": ("solution", early(12)),
        "student11": ("solution", early(90)),
    },
    "a1": {
        "student01": ("solution", early(48)),
        "student02": ("flawed/relu-backward-uses-output", early(5)),
        "student03": ("solution", late(1, 5)),
        "student04": ("flawed/unstable-softmax", early(26)),
        "student05": ("solution-float32", early(3)),
        "student06": ("flawed/momentum-velocity-not-stored", early(20)),
        "student07": ("starter", early(0.5)),
        "student08": ("flawed/loss-gradient-not-averaged", early(50)),
        "student09": ("solution", late(3, 8)),
        "student10": ("flawed/sigmoid-derivative-of-input", early(6)),
        "student11": ("solution-loops", early(96)),
        "student12": ("solution", late(0, 3)),
    },
    "a2": {
        "student01": ("solution", early(24)),
        "student02": ("solution", late(0, 20)),
        "student03": ("flawed/no-zero-grad", early(2)),
        "student04": ("flawed/maxpool-grad-to-all", early(30)),
        "student05": ("solution", late(2, 10)),
        "student06": ("flawed/conv-weight-grad-flipped", early(8)),
        "student07": ("fake", early(1)),
        "student08": ("flawed/padding-nhwc-axes", early(70)),
        "student09": ("solution", late(3, 20)),
        "student10": ("solution", early(5)),
        "student11": ("solution", early(49)),
        "student12": ("starter", early(2)),
    },
    # Due on the Tuesday of week 9: handed in from the Wednesday on.
    "a3": {
        "student01": ("solution", early(30)),
        "student02": ("flawed/gate-order", early(4)),
        "student03": ("solution", early(1)),
        "student04": ("flawed/bptt-no-carry", early(28)),
        "student05": ("solution", early(9)),
        "student06": ("flawed/clip-per-parameter", early(3)),
        "student07": ("starter", early(0.2)),
        "student08": ("flawed/detach-every-step", early(52)),
        "student09": ("solution", early(7)),
        "student10": ("flawed/cell-state-not-detached", early(12)),
        "student11": ("solution", early(75)),
        "student12": ("flawed/lstm-bptt-no-forget-gate", early(2)),
    },
}


# Project groups hand in their proposal as a short PDF, some hours before it is due.
PROPOSALS = {
    "Group 1": ("Sparse attention for long-document summarisation", early(30)),
    "Group 2": ("Graph neural networks for molecule property prediction", early(4)),
    "Group 3": ("Self-supervised pretraining for small medical-image datasets", early(50)),
    "Group 4": ("Distilling a vision transformer into a CNN", early(1)),
    "Group 5": ("Deep ensembles for uncertainty in weather forecasting", early(12)),
}


def demo_upload(folder: Path, files: list[str], archive_name: str) -> TemporaryUploadedFile:
    """The upload a student would make: the one file itself, or a zip of several."""
    single = len(files) == 1
    upload = TemporaryUploadedFile(files[0] if single else archive_name, "", 0, None)
    if single:
        upload.write((folder / files[0]).read_bytes())
    else:
        with zipfile.ZipFile(upload, "w") as archive:
            for file in files:
                # A fixed timestamp: the same files make the same archive, stored once.
                info = zipfile.ZipInfo(file, date_time=(2024, 1, 1, 0, 0, 0))
                archive.writestr(info, (folder / file).read_bytes())
    upload.flush()
    return upload


def variant_folder(folder: Path, variant: str, scratch: Path) -> Path:
    """The folder of a hand-in of the examples in ``folder``: ``flawed/<mistake>`` is written
    under ``scratch`` from the solution and the mistake; anything else is a folder there."""
    kind, _, name = variant.partition("/")
    if kind != "flawed":
        return folder / variant
    mistakes = _mistakes_module(folder.parent / "mistakes.py")
    mistake = mistakes.mistakes_of(folder)[name]
    dest = scratch / folder.name / name
    if not dest.is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True)
        mistakes.write_handin(folder / "solution", mistake, dest)
    return dest


def _mistakes_module(path: Path) -> ModuleType:
    # Loaded under its own name, as the assignments' make_flawed.py import it.
    loaded = sys.modules.get("mistakes")
    if loaded is not None and Path(loaded.__file__ or "").resolve() == path.resolve():
        return loaded
    spec = importlib.util.spec_from_file_location("mistakes", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules["mistakes"] = module
    spec.loader.exec_module(module)
    return module


class HandInPlayer(DemoPlayer):
    key = "handins"

    def play(self, semester: DemoSemester) -> list[str]:
        students = {
            m.user.username: m.user
            for m in Membership.objects.filter(
                course=semester.course, role=Role.STUDENT
            ).select_related("user")
        }
        played = []
        for slug, handins in HANDINS.items():
            assignment = (
                Assignment.objects.filter(item__course=semester.course, item__slug=slug)
                .select_related("item__course")
                .first()
            )
            folder = semester.course_file.parent / EXAMPLES[slug]
            # Another course file (--file) may have no such assignment, or no examples of it.
            if assignment is None or not folder.is_dir():
                continue
            if not semester.is_past(assignment.item.due_at):
                continue
            count = self._hand_in(semester, assignment, folder, handins, students)
            if count:
                played.append(f"{count} hand-ins of {assignment.item.title} queued for grading")
        played.extend(self._proposals(semester))
        return played

    def _proposals(self, semester: DemoSemester) -> list[str]:
        deliverable = (
            Deliverable.objects.filter(item__course=semester.course, item__slug="proposal")
            .select_related("item")
            .first()
        )
        if deliverable is None or deliverable.item.due_at is None:
            return []
        due = deliverable.item.due_at
        done = set(
            Submission.objects.filter(item=deliverable.item).values_list("group_id", flat=True)
        )
        count = 0
        for group in ProjectGroup.objects.filter(course=semester.course, name__in=PROPOSALS):
            title, offset = PROPOSALS[group.name]
            member = group.members.order_by("username").first()
            if member is None or group.pk in done or not semester.is_past(due + offset):
                continue
            upload = TemporaryUploadedFile("proposal.pdf", "application/pdf", 0, None)
            upload.write(
                demo_pdf(
                    title,
                    [
                        f"Project proposal of {group.name}.",
                        "Problem: what we set out to improve, and why it matters.",
                        "Related work: the recent study we extend.",
                        "Method: the architecture we build and how we train it.",
                        "Evaluation: datasets, baselines and metrics.",
                    ],
                )
            )
            upload.flush()
            try:
                submission_create(
                    handin=deliverable,
                    group=group,
                    submitted_by=member,
                    upload=upload,
                    submitted_at=due + offset,
                )
            finally:
                upload.close()
            if not group.title:
                group.title = title
                group.abstract = (
                    f"{title}: we build on a recent study, train on a public dataset and "
                    "compare with the published baselines."
                )
                group.save(update_fields=["title", "abstract"])
            count += 1
        return [f"{count} project proposals handed in"] if count else []

    def _hand_in(
        self,
        semester: DemoSemester,
        assignment: Assignment,
        folder: Path,
        handins: dict[str, tuple[str, timedelta]],
        students: dict[str, User],
    ) -> int:
        item = assignment.item
        assert item.due_at is not None  # only items due before the as-of date are played
        done = set(Submission.objects.filter(item=item).values_list("student__username", flat=True))
        count = 0
        with tempfile.TemporaryDirectory(prefix="demo-handins-") as scratch:
            for username, (variant, offset) in handins.items():
                student, submitted_at = students.get(username), item.due_at + offset
                # A hand-in later than the as-of date is played by a run on a later day.
                if student is None or username in done or not semester.is_past(submitted_at):
                    continue
                upload = demo_upload(
                    variant_folder(folder, variant, Path(scratch)),
                    list(assignment.handin_files),
                    f"{item.slug}.zip",
                )
                try:
                    submission_create(
                        handin=assignment,
                        student=student,
                        submitted_by=student,
                        upload=upload,
                        submitted_at=submitted_at,
                    )
                finally:
                    upload.close()
                count += 1
        return count

    def move(self, course: Course, weeks: int) -> None:
        """Hand-ins and extensions move with the due dates, so every lateness stays the same."""
        zone = course.tz
        for model, field in ((Submission, "submitted_at"), (Extension, "due_at")):
            rows = model.objects.filter(item__course=course).values_list("pk", field)
            for pk, moment in rows:
                moved = instant_shift(moment, weeks=weeks, zone=zone)
                model.objects.filter(pk=pk).update(**{field: moved})
        answers_course_changed(course_id=course.pk)
        # Rescored from the moved data, in case a daylight-saving change moved an hour.
        course_scores_refresh(course=course)
