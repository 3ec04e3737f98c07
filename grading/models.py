"""Grading's models arrive with the grading engine: bundles, jobs, test results, rubrics."""
