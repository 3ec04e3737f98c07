"""Taking a quiz: start an attempt, save answers as they are typed, submit once, score.

The rules, each checked before anything is written:

1. A student of the course starts an attempt between the item's ``opens_at`` and ``due_at`` (the
   quiz's close), while attempts are left. An attempt still running is continued, not doubled.
2. An attempt's deadline is its start plus the quiz's time limit, never after the close.
3. Answers are saved one by one while the attempt runs (a lost connection loses only what was
   typed since the last save); a save that arrives after the deadline (plus a few seconds of the
   network's delay) is refused and the attempt is submitted as it stood.
4. An attempt is submitted once: by the student, or by the site once its deadline has passed
   (``attempts_finish_expired``, called wherever attempts are read). Submitting checks every
   answer (``quizzes.answers``) against the student's own variant of each question.
5. The quiz's Score is the best or the last submitted attempt's points (the course's choice),
   recorded through ``coursesite.services.score_record``; derivations count once staff score
   them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from coursesite.models import Membership, Role, ScoreSource
from coursesite.services import score_record
from quizzes import answers
from quizzes.models import Answer, Attempt, Counts, Question, QuestionKind, Quiz

ANSWER_MAX_CHARS = 2000
# A save sent just before the deadline may arrive just after it.
NETWORK_GRACE = timedelta(seconds=15)
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_SIGNATURES = {
    b"%PDF-": "a PDF",
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}
CENT = Decimal("0.01")


def seed_of(question: Question, student: User) -> str:
    """The seed of a student's variant of a question: stable, and different per student."""
    item = question.quiz.item
    return f"{item.course_id}/{item.slug}/{question.key}/{student.pk}"


def question_values(question: Question, student: User) -> dict[str, Any]:
    parameters = question.spec.get("parameters") or {}
    return answers.variant(parameters, seed_of(question, student)) if parameters else {}


def quiz_closes_at(quiz: Quiz) -> datetime | None:
    return quiz.item.due_at


def _student_of(quiz: Quiz, student: User) -> None:
    if not Membership.objects.filter(
        course_id=quiz.item.course_id, user=student, role=Role.STUDENT
    ).exists():
        raise ValidationError({"student": f"Only a student of {quiz.item.course} takes quizzes."})


@transaction.atomic
def attempt_start(*, quiz: Quiz, student: User, now: datetime | None = None) -> Attempt:
    """The student's running attempt, or a new one (rules 1 and 2)."""
    now = now or timezone.now()
    quiz = Quiz.objects.select_related("item__course").get(pk=quiz.pk)
    _student_of(quiz, student)
    # One student's starts follow each other: the membership row is the lock.
    Membership.objects.select_for_update().filter(
        course_id=quiz.item.course_id, user=student
    ).first()
    attempts_finish_expired(quiz=quiz, student=student, now=now)
    running = Attempt.objects.filter(quiz=quiz, student=student, submitted_at=None).first()
    if running is not None:
        return running
    item = quiz.item
    if item.opens_at and now < item.opens_at:
        raise ValidationError({"quiz": f"{item.title} opens at {_shown(item.opens_at, quiz)}."})
    closes = quiz_closes_at(quiz)
    if closes and now >= closes:
        raise ValidationError({"quiz": f"{item.title} closed at {_shown(closes, quiz)}."})
    taken = Attempt.objects.filter(quiz=quiz, student=student).count()
    if taken >= quiz.attempts_allowed:
        allowed = quiz.attempts_allowed
        raise ValidationError(
            {"quiz": f"You have used your {allowed} attempt{'s' if allowed > 1 else ''}."}
        )
    deadline = closes
    if quiz.time_limit_minutes:
        limit = now + timedelta(minutes=quiz.time_limit_minutes)
        deadline = min(limit, closes) if closes else limit
    return Attempt.objects.create(
        quiz=quiz,
        student=student,
        number=taken + 1,
        started_at=now,
        deadline_at=deadline or now + timedelta(days=365),
    )


def _shown(moment: datetime, quiz: Quiz) -> str:
    return timezone.localtime(moment, quiz.item.course.tz).strftime("%Y-%m-%d %H:%M %Z")


def _submit_if_over(attempt_id: int, now: datetime) -> None:
    """Submit an attempt whose time is up as it stood, then refuse the save that came too late.
    Called outside the save's transaction, so the submission stays when the save is refused."""
    with transaction.atomic():
        attempt = _locked(attempt_id)
        over = attempt.submitted_at is None and now > attempt.deadline_at + NETWORK_GRACE
        if over:
            _submit(attempt, now)
    if over:
        raise ValidationError(
            {"attempt": "Time is up: the attempt was submitted with the answers saved before."}
        )


def _running(attempt_id: int, now: datetime) -> Attempt:
    """The attempt, locked, if answers may still be saved to it (rule 3)."""
    attempt = _locked(attempt_id)
    if attempt.submitted_at is not None:
        raise ValidationError({"attempt": "This attempt was submitted; its answers are final."})
    if now > attempt.deadline_at + NETWORK_GRACE:
        raise ValidationError({"attempt": "Time is up: the attempt was submitted."})
    return attempt


def _locked(attempt_id: int) -> Attempt:
    return (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("quiz__item__course", "student")
        .get(pk=attempt_id)
    )


def _question_of(attempt: Attempt, question: Question) -> Question:
    if question.quiz_id != attempt.quiz_id:
        raise ValidationError({"question": "That question is not part of this quiz."})
    return question


def answer_save(
    *, attempt: Attempt, question: Question, text: str, now: datetime | None = None
) -> Answer:
    """Save (or replace) the answer to one question of a running attempt (rule 3)."""
    now = now or timezone.now()
    if len(text) > ANSWER_MAX_CHARS:
        raise ValidationError({"text": f"An answer is at most {ANSWER_MAX_CHARS} characters."})
    _submit_if_over(attempt.pk, now)
    with transaction.atomic():
        return _answer_save(attempt.pk, question, text, now)


def _answer_save(attempt_id: int, question: Question, text: str, now: datetime) -> Answer:
    attempt = _running(attempt_id, now)
    question = _question_of(attempt, question)
    if question.kind == QuestionKind.DERIVATION:
        raise ValidationError({"text": "A derivation is handed in as a PDF or a photo."})
    answer, _ = Answer.objects.update_or_create(
        attempt=attempt, question=question, defaults={"text": text, "saved_at": now}
    )
    return answer


def answer_upload(
    *, attempt: Attempt, question: Question, upload: UploadedFile, now: datetime | None = None
) -> Answer:
    """Hand in a derivation (a PDF, PNG or JPEG of at most 10 MB) for a running attempt."""
    now = now or timezone.now()
    _submit_if_over(attempt.pk, now)
    with transaction.atomic():
        return _answer_upload(attempt.pk, question, upload, now)


def _answer_upload(
    attempt_id: int, question: Question, upload: UploadedFile, now: datetime
) -> Answer:
    attempt = _running(attempt_id, now)
    question = _question_of(attempt, question)
    if question.kind != QuestionKind.DERIVATION:
        raise ValidationError({"upload": "Only a derivation is handed in as a file."})
    if upload.size is None or upload.size > UPLOAD_MAX_BYTES:
        raise ValidationError({"upload": "A derivation is at most 10 MB."})
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in UPLOAD_SIGNATURES):
        kinds = ", ".join(sorted(set(UPLOAD_SIGNATURES.values())))
        raise ValidationError({"upload": f"A derivation is {kinds}; this file is none of them."})
    answer = Answer.objects.filter(attempt=attempt, question=question).first()
    if answer is None:
        answer = Answer(attempt=attempt, question=question)
    elif answer.upload:
        answer.upload.delete(save=False)
    answer.saved_at = now
    answer.upload.save(_upload_name(upload.name or "derivation"), upload, save=False)
    answer.save()
    return answer


def _upload_name(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return f"derivation.{suffix}" if suffix in ("pdf", "png", "jpg", "jpeg") else "derivation"


@transaction.atomic
def attempt_submit(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Submit a running attempt and score it (rule 4); an attempt past its deadline counts the
    answers saved before it."""
    now = now or timezone.now()
    locked = (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("quiz__item__course", "student")
        .get(pk=attempt.pk)
    )
    if locked.submitted_at is not None:
        raise ValidationError({"attempt": "This attempt was submitted already."})
    _submit(locked, now)
    return locked


def attempts_finish_expired(
    *, quiz: Quiz, student: User | None = None, now: datetime | None = None
) -> int:
    """Submit the attempts whose deadline has passed (rule 4); returns how many."""
    now = now or timezone.now()
    expired = Attempt.objects.filter(
        quiz=quiz, submitted_at=None, deadline_at__lt=now - NETWORK_GRACE
    )
    if student is not None:
        expired = expired.filter(student=student)
    count = 0
    with transaction.atomic():
        for attempt in expired.select_for_update(of=("self",)).select_related(
            "quiz__item__course", "student"
        ):
            _submit(attempt, now)
            count += 1
    return count


def _submit(attempt: Attempt, now: datetime) -> None:
    attempt.submitted_at = min(now, attempt.deadline_at + NETWORK_GRACE)
    saved = {answer.question_id: answer for answer in attempt.answers.all()}
    total, pending = Decimal(0), False
    for question in attempt.quiz.questions.all():
        answer = saved.get(question.pk) or Answer(
            attempt=attempt, question=question, saved_at=attempt.submitted_at
        )
        if question.kind == QuestionKind.DERIVATION:
            # Staff score it with the question's rubric; an empty one scores 0 at once.
            if not answer.upload:
                _mark(answer, Decimal(0), question, feedback="Nothing was handed in.")
            else:
                pending = pending or answer.points is None
        else:
            values = question_values(question, attempt.student)
            checked = answers.check(question.kind, question.spec, values, answer.text)
            answer.feedback, answer.problem = checked.feedback, checked.problem[:300]
            _mark(answer, Decimal(str(checked.fraction)), question)
        answer.save()
        total += answer.points or Decimal(0)
    attempt.points, attempt.pending_review = total, pending
    attempt.save(update_fields=["submitted_at", "points", "pending_review"])
    quiz_score_refresh(quiz=attempt.quiz, student=attempt.student)


def _mark(answer: Answer, fraction: Decimal, question: Question, feedback: str = "") -> None:
    fraction = min(max(fraction, Decimal(0)), Decimal(1))
    answer.fraction = fraction.quantize(Decimal("0.0001"))
    answer.points = (question.points * fraction).quantize(CENT, rounding=ROUND_HALF_UP)
    if feedback:
        answer.feedback = feedback


@transaction.atomic
def derivation_score(*, answer: Answer, points: Decimal | None, scored_by: User | None) -> Answer:
    """Staff's points for a handed-in derivation (from its rubric; None when no evaluation counts
    any more); the attempt and the quiz's Score follow."""
    answer = Answer.objects.select_related(
        "question", "attempt__quiz__item", "attempt__student"
    ).get(pk=answer.pk)
    question = answer.question
    if question.kind != QuestionKind.DERIVATION:
        raise ValidationError({"answer": "Only derivations are scored by staff."})
    if points is None:
        answer.fraction = answer.points = None
    elif not Decimal(0) <= points <= question.points:
        raise ValidationError({"points": f"Between 0 and {question.points} points."})
    else:
        _mark(answer, points / question.points, question)
    answer.save(update_fields=["fraction", "points"])
    attempt = answer.attempt
    if attempt.submitted_at is not None:
        marked = list(attempt.answers.select_related("question"))
        attempt.points = sum((a.points or Decimal(0) for a in marked), Decimal(0))
        attempt.pending_review = any(
            a.points is None and a.question.kind == QuestionKind.DERIVATION for a in marked
        )
        attempt.save(update_fields=["points", "pending_review"])
        quiz_score_refresh(quiz=attempt.quiz, student=attempt.student, changed_by=scored_by)
    return answer


def counted_attempt(quiz: Quiz, student: User) -> Attempt | None:
    """The submitted attempt that counts (rule 5)."""
    submitted = list(
        Attempt.objects.filter(quiz=quiz, student=student, submitted_at__isnull=False).order_by(
            "number"
        )
    )
    if not submitted:
        return None
    if quiz.counts == Counts.LAST:
        return submitted[-1]
    return max(submitted, key=lambda attempt: (attempt.points or Decimal(0), -attempt.number))


def quiz_score_refresh(*, quiz: Quiz, student: User, changed_by: User | None = None) -> None:
    """Record the quiz's Score from the attempt that counts (rule 5)."""
    counted = counted_attempt(quiz, student)
    if counted is None:
        return
    submitted = Attempt.objects.filter(
        quiz=quiz, student=student, submitted_at__isnull=False
    ).count()
    rule = "best" if quiz.counts == Counts.BEST else "last"
    comment = f"Attempt {counted.number} of {submitted} (the {rule} counts)."
    if counted.pending_review:
        comment += " A derivation is still to be scored."
    points = min(counted.points or Decimal(0), quiz.item.max_points)
    score_record(
        item=quiz.item,
        student=student,
        points=points,
        source=ScoreSource.QUIZ,
        comment=comment,
        changed_by=changed_by,
        reason=f"quiz attempt {counted.number} scored",
    )
