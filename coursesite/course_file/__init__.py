"""The course file: one YAML file that describes a whole course (see docs/course-file.md)."""
