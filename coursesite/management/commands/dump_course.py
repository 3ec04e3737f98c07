from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coursesite.course_file.dump import course_file_dump
from coursesite.models import Course


class Command(BaseCommand):
    help = "Write a course as a course file on standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the course's slug, e.g. comp541-fall2024")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        course = Course.objects.filter(slug=slug).first()
        if course is None:
            raise CommandError(f"there is no course with the slug {slug!r}")
        self.stdout.write(course_file_dump(course), ending="")
