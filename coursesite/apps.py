from django.apps import AppConfig


class CoursesiteConfig(AppConfig):
    name = "coursesite"
    verbose_name = "Courses"
