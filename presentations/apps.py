from django.apps import AppConfig


class PresentationsConfig(AppConfig):
    name = "presentations"
    verbose_name = "Presentations and reviews"

    def ready(self) -> None:
        from coursesite.course_file.sections import register_section
        from presentations.course_file import PapersSection

        register_section(PapersSection())
