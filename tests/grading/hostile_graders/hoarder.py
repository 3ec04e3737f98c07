"""A grader.py that keeps everything it ever computed, until there is no memory left."""


def grade(outputs, private, run):
    kept = []
    while True:
        kept.append(bytearray(16 * 1024 * 1024))
