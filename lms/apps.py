from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "LMS (LTI 1.3)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from coursesite.demo import demo_player_register
        from coursesite.gradebook.notes import item_notes_register
        from lms.demo import LmsPlayer
        from lms.gradebook_notes import lms_item_notes

        item_notes_register(lms_item_notes)
        demo_player_register(LmsPlayer())
