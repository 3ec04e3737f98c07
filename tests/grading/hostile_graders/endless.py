"""A grader.py that never answers."""


def grade(outputs, private, run):
    while True:
        pass
