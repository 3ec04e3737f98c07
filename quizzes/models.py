"""Online quizzes: a graded item's questions, the students' attempts and their answers.

A Quiz belongs to one GradeItem, which gives it its points, its opening time (``opens_at``), its
closing time (``due_at``) and its pass mark. Each Question has a kind (``quizzes.answers`` checks
the answers of each) and a spec: what the kind needs (the options and the right ones, the answer
and its tolerance, the symbols of an expression, the parameters a student's variant is drawn
from). An Attempt is one student's sitting: started, saved answer by answer, submitted once
(by the student, or at its deadline by the site). Its points, and the quiz's Score, follow the
course's rule (the best or the last attempt counts).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from coursesite.models import GradeItem


class QuestionKind(models.TextChoices):
    CHOICE = "choice", "Multiple choice"
    NUMBER = "number", "A number"
    MATRIX = "matrix", "A vector or matrix"
    EXPRESSION = "expression", "An expression"
    DERIVATION = "derivation", "A derivation (uploaded, scored by staff)"


class Counts(models.TextChoices):
    BEST = "best", "The best attempt counts"
    LAST = "last", "The last attempt counts"


class ShowAnswers(models.TextChoices):
    AFTER_CLOSE = "after_close", "After the quiz closes"
    AFTER_SUBMIT = "after_submit", "Once the attempt is submitted"
    NEVER = "never", "Never"


class Quiz(models.Model):
    item = models.OneToOneField(GradeItem, on_delete=models.CASCADE, related_name="quiz")
    instructions = models.TextField(blank=True)
    time_limit_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Minutes per attempt; empty for none."
    )
    attempts_allowed = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)]
    )
    counts = models.CharField(max_length=8, choices=Counts.choices, default=Counts.BEST)
    show_answers = models.CharField(
        max_length=16, choices=ShowAnswers.choices, default=ShowAnswers.AFTER_CLOSE
    )

    class Meta:
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return self.item.title


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=QuestionKind.choices)
    text = models.TextField()
    points = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    spec = models.JSONField(default=dict)

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "key"], name="question_key_unique_in_quiz")
        ]

    def __str__(self) -> str:
        return f"{self.quiz} / {self.key}"


class Attempt(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    deadline_at = models.DateTimeField(help_text="The time limit, or the quiz's closing time.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    points = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # Points of derivations staff have not scored yet are missing from ``points``.
    pending_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["quiz", "student", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "student", "number"], name="attempt_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quiz}: attempt {self.number} of {self.student}"


def derivation_path(answer: Answer, filename: str) -> str:
    return f"quizzes/{answer.attempt.quiz_id}/{answer.attempt_id}/{answer.question.key}-{filename}"


class Answer(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    text = models.TextField(blank=True)
    upload = models.FileField(upload_to=derivation_path, blank=True)
    saved_at = models.DateTimeField()
    # Set when the attempt is submitted (a derivation: when staff score it).
    fraction = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    points = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    feedback = models.TextField(blank=True)
    problem = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="one_answer_per_question")
        ]

    def __str__(self) -> str:
        return f"{self.attempt} / {self.question.key}"
