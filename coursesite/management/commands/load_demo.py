from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from coursesite.course_file.reader import CourseFileError
from coursesite.demo import DEMO_WEEK, demo_semester_load
from coursesite.services import demo_passwords_set

DEMO_COURSE = Path(settings.BASE_DIR) / "examples" / "comp541-fall2024.yaml"
DEMO_PASSWORD = "demo"  # noqa: S105 - the demo's documented password, refused outside demo mode


class Command(BaseCommand):
    help = (
        "Load the demo course as it looks in its week 9 (today, or --as-of), play its first "
        "weeks, and give each of its members the password 'demo' (demo mode only)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEMO_COURSE, help="the demo's course file")
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            metavar="YYYY-MM-DD",
            help=f"the day that falls in week {DEMO_WEEK} of the demo (default: today)",
        )

    def handle(self, *args: Any, file: Path, as_of: date | None, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo accounts exist only in demo mode; these settings turn it off.")
        try:
            semester, changes, played = demo_semester_load(path=file, as_of=as_of)
        except CourseFileError as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        course = semester.course
        self.stdout.write(f"{course.slug}: {changes.summary()}")
        monday = semester.as_of - timedelta(days=semester.as_of.weekday())
        self.stdout.write(
            f"The calendar is {semester.weeks} weeks from the course file's dates: week "
            f"{DEMO_WEEK} runs from {monday} to {monday + timedelta(days=6)}."
        )
        for line in played or ["Nothing new to play: the first weeks are played already."]:
            self.stdout.write(f"  {line}")
        members = demo_passwords_set(course=course, password=DEMO_PASSWORD)
        self.stdout.write(f"\nDemo accounts of {course} (password '{DEMO_PASSWORD}' for all):")
        for membership in members:
            user = membership.user
            self.stdout.write(
                f"  {user.username:<12} {membership.get_role_display():<20} {user.get_full_name()}"
            )
