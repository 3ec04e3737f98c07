from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from coursesite.models import Course
from presentations.models import PRESENTING_ROLES
from presentations.selectors import slots_of_course
from presentations.slots import presenters_assign


class Command(BaseCommand):
    help = (
        "Assign the course's presenters fairly (keeping pinned ones) and print who presents "
        "what, slot by slot, and how often each student presents."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the course's slug, e.g. comp541-fall2024")
        parser.add_argument(
            "--seed", type=int, help="another seed than the course's (see its presentations)"
        )

    def handle(self, *args: Any, slug: str, seed: int | None, **options: Any) -> None:
        course = Course.objects.filter(slug=slug).first()
        if course is None:
            raise CommandError(f"there is no course with the slug {slug!r}")
        try:
            result = presenters_assign(course=course, seed=seed)
        except ValidationError as error:
            raise CommandError(f"{'; '.join(error.messages)}\nNo presenter was changed.") from None
        self.stdout.write(
            f"{course.slug}: assigned with seed {result.seed}: {result.placed} places filled, "
            f"{result.kept} pinned kept (marked *)."
        )
        self.stdout.write("")
        self.stdout.write(f"{'date':<10}  {'paper':<20}  {'role':<10}  presenters")
        for slot in slots_of_course(course):
            day = slot.date.isoformat() if slot.date else "no date"
            for role in slot.roles.all():
                if role.role not in PRESENTING_ROLES:
                    continue
                names = ", ".join(
                    presenter.student.username + ("*" if presenter.pinned else "")
                    for presenter in role.presenters.all()
                )
                self.stdout.write(f"{day:<10}  {slot.paper.key:<20}  {role.role:<10}  {names}")
        self.stdout.write("")
        self.stdout.write("presentations per student")
        for username, count in result.counts.items():
            self.stdout.write(f"{username:<20}  {count}")
