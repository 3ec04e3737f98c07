from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "quizzes"
    verbose_name = "Quizzes"

    def ready(self) -> None:
        from coursesite.course_file.sections import register_section
        from coursesite.dashboard import dashboard_source_register
        from coursesite.demo import demo_player_register
        from grading.rubrics import subject_source_register
        from quizzes.course_file import QuizzesSection
        from quizzes.dashboard import QuizSource
        from quizzes.demo import QuizPlayer
        from quizzes.rubric_sources import DerivationSource

        subject_source_register(DerivationSource())
        register_section(QuizzesSection())
        demo_player_register(QuizPlayer())
        dashboard_source_register(QuizSource())
