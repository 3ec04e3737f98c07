from django.apps import AppConfig


class PresentationsConfig(AppConfig):
    name = "presentations"
    verbose_name = "Presentations and reviews"

    def ready(self) -> None:
        from coursesite.course_file.sections import register_section
        from grading.rubrics import subject_source_register
        from presentations.rubric_sources import ReviewSource, RoleSource

        subject_source_register(RoleSource())
        subject_source_register(ReviewSource())
        from presentations.course_file import PapersSection

        register_section(PapersSection())
