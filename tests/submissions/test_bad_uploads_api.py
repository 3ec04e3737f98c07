"""Every bad upload, sent through the API as a real file: a 400 that says what is wrong, and
neither a stored file nor a row left behind."""

from __future__ import annotations

import pytest

from submissions.models import Submission
from tests.submissions.bad_uploads import MEBIBYTE
from tests.submissions.conftest import stored_files
from tests.submissions.test_archives import REFUSALS


@pytest.mark.parametrize(
    ("make", "required", "limits", "message"),
    [pytest.param(*case, id=case[0].__name__) for case in REFUSALS],
)
def test_it_refuses_the_bad_upload_and_stores_nothing(
    handins, settings, make, required, limits, message
):
    assignment = handins.assignment
    assignment.handin_files = list(required) or ["mlp.py"]
    assignment.max_archive_bytes = limits.max_upload_bytes
    assignment.save()
    settings.HANDIN_MAX_UNPACKED_BYTES = limits.max_total_bytes
    settings.MAX_REQUEST_BYTES = 40 * MEBIBYTE
    filename, content = make()
    answer = handins.upload(handins.personas.carol, content, name=filename)
    assert answer.status_code == 400
    assert message in answer.json()["detail"]
    assert not Submission.objects.exists()
    assert stored_files() == []
