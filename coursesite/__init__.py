"""coursesite: a course backend for deep-learning courses."""

from coursesite.celery import app as celery_app

__all__ = ["celery_app"]
