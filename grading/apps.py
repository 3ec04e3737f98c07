from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from coursesite.course_file.sections import register_section
        from coursesite.demo import demo_player_register
        from grading.course_file import RubricGradingSection, RubricsSection
        from grading.demo import RubricPlayer

        # Registered before the apps above grading, so that their sections can name rubrics.
        register_section(RubricsSection())
        register_section(RubricGradingSection())
        demo_player_register(RubricPlayer())
