from django.apps import AppConfig


class PresentationsConfig(AppConfig):
    name = "presentations"
    verbose_name = "Presentations and reviews"

    def ready(self) -> None:
        from coursesite.course_file.sections import register_section
        from coursesite.dashboard import dashboard_source_register
        from coursesite.demo import demo_player_register
        from coursesite.gradebook.work import work_source_register
        from grading.rubrics import subject_source_register
        from presentations.course_file import (
            PapersSection,
            PresentationsSection,
            ReviewsSection,
        )
        from presentations.dashboard import PapersSource
        from presentations.demo import PresentationsPlayer
        from presentations.reviews import gradebook_work
        from presentations.rubric_sources import ReviewSource, RoleSource

        subject_source_register(RoleSource())
        subject_source_register(ReviewSource())

        register_section(PapersSection())
        register_section(PresentationsSection())
        register_section(ReviewsSection())
        work_source_register(gradebook_work)
        demo_player_register(PresentationsPlayer())
        dashboard_source_register(PapersSource())
