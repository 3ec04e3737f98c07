from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from coursesite.answers import (
            answers_course_changed,
            answers_follow,
            answers_owner_changed,
        )
        from coursesite.course_file.sections import register_section
        from coursesite.demo import demo_player_register
        from grading.course_file import RubricGradingSection, RubricsSection
        from grading.demo import RubricPlayer
        from grading.models import AutograderBundle, GradingJob

        # Registered before the apps above grading, so that their sections can name rubrics.
        register_section(RubricsSection())
        register_section(RubricGradingSection())
        demo_player_register(RubricPlayer())
        # The status of a hand-in shows its latest job and its tests, which are written only
        # with the job's result (grading_job_finish) and deleted only with the job.
        answers_follow(GradingJob, lambda job: answers_owner_changed(owner=job.owner))
        answers_follow(
            AutograderBundle,
            lambda bundle: answers_course_changed(item_id=bundle.item_id),
        )
