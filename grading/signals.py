"""Signals by which grading tells the layers above it that something happened."""

from django.dispatch import Signal

# Sent with ``job_id`` once a grading job's result is stored; hand-ins turn it into a Score.
job_finished = Signal()
