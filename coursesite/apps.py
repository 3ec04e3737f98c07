from django.apps import AppConfig


class CoursesiteConfig(AppConfig):
    name = "coursesite"
    verbose_name = "Courses"

    def ready(self) -> None:
        from coursesite.answers import answers_follow_course

        answers_follow_course()
