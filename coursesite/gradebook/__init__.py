"""The gradebook: every student's weighted grade, computed from the grade structure and Scores."""
