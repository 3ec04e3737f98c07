from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from coursesite.services import demo_passwords_set

DEMO_COURSE = Path(settings.BASE_DIR) / "examples" / "comp541-fall2024.yaml"
DEMO_PASSWORD = "demo"  # noqa: S105 - the demo's documented password, refused outside demo mode


class Command(BaseCommand):
    help = "Load the demo course and give each of its members the password 'demo' (demo mode only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEMO_COURSE, help="the demo's course file")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo accounts exist only in demo mode; these settings turn it off.")
        try:
            course, changes = course_file_load(path=file)
        except CourseFileError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{course.slug}: {changes.summary()}")
        members = demo_passwords_set(course=course, password=DEMO_PASSWORD)
        self.stdout.write(f"\nDemo accounts of {course} (password '{DEMO_PASSWORD}' for all):")
        for membership in members:
            user = membership.user
            self.stdout.write(
                f"  {user.username:<12} {membership.get_role_display():<20} {user.get_full_name()}"
            )
