from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from coursesite.models import ScoreChange, ScoreSource
from coursesite.services import score_record


def record(personas, points, **kwargs):
    defaults = {
        "item": personas.quiz,
        "student": personas.carol,
        "points": points,
        "source": ScoreSource.MANUAL,
        "changed_by": personas.bob,
        "reason": "graded the quiz",
    }
    return score_record(**{**defaults, **kwargs})


def test_it_keeps_an_audit_row_of_every_change(personas):
    record(personas, Decimal(6))
    score = record(personas, Decimal("7.5"), reason="regrade request accepted")
    changes = list(score.changes.values_list("old_points", "new_points", "changed_by", "reason"))
    assert changes == [
        (None, Decimal(6), personas.bob.pk, "graded the quiz"),
        (Decimal(6), Decimal("7.5"), personas.bob.pk, "regrade request accepted"),
    ]
    assert score.points == Decimal("7.5")


def test_it_writes_nothing_when_nothing_changes(personas):
    record(personas, Decimal(6))
    record(personas, Decimal(6))
    assert ScoreChange.objects.count() == 1


def test_it_records_an_autograder_change_without_a_person(personas):
    score = record(personas, Decimal(9), changed_by=None, source=ScoreSource.AUTOGRADER)
    change = score.changes.get()
    assert (change.changed_by, change.source) == (None, ScoreSource.AUTOGRADER)


def test_it_records_an_excused_score_without_points(personas):
    score = record(personas, None, excused=True, reason="medical report")
    assert (score.points, score.excused) == (None, True)
    assert score.changes.get().new_excused is True


def test_it_refuses_points_above_the_maximum(personas):
    with pytest.raises(ValidationError, match="between 0 and 10"):
        record(personas, Decimal("10.5"))
    assert ScoreChange.objects.count() == 0


def test_it_refuses_a_score_for_someone_who_is_not_a_student_of_the_course(personas):
    with pytest.raises(ValidationError, match="not a student"):
        record(personas, Decimal(5), student=personas.dave)


def test_it_refuses_a_change_without_a_reason(personas):
    with pytest.raises(ValidationError, match="why"):
        record(personas, Decimal(5), reason="  ")
