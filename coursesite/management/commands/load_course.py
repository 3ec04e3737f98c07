from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError


class Command(BaseCommand):
    help = "Create or update a course from a course file (see docs/course-file.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the course's YAML file")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            course, changes = course_file_load(path=file)
        except CourseFileError as error:
            raise CommandError(f"{error}\nNothing was changed.") from None
        self.stdout.write(f"{course.slug}: {changes.summary()}")
