from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = "Hand-ins"

    def ready(self) -> None:
        import submissions.receivers  # noqa: F401 - connects the receivers
        from coursesite.answers import answers_course_changed, answers_follow
        from coursesite.course_file.sections import register_section
        from coursesite.dashboard import dashboard_source_register
        from coursesite.demo import demo_player_register
        from coursesite.gradebook.work import work_source_register
        from grading.rubrics import subject_source_register
        from submissions import staff_views  # noqa: F401 - links grading's jobs to hand-ins
        from submissions.course_file import AssignmentsSection, DeliverablesSection
        from submissions.dashboard import HandInSource
        from submissions.demo import HandInPlayer
        from submissions.models import Assignment, Deliverable, Extension, Submission
        from submissions.rubric_sources import GroupSource
        from submissions.selectors import gradebook_work
        from submissions.services import handin_work_changed

        register_section(AssignmentsSection())
        register_section(DeliverablesSection())
        work_source_register(gradebook_work)
        demo_player_register(HandInPlayer())
        subject_source_register(GroupSource())
        dashboard_source_register(HandInSource())
        for model in (Submission, Extension):
            answers_follow(model, handin_work_changed)
        for handin in (Assignment, Deliverable):
            answers_follow(handin, lambda row: answers_course_changed(item_id=row.item_id))
