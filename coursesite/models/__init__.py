from coursesite.models.course import Course, GroupMembership, Membership, ProjectGroup, Role
from coursesite.models.grades import (
    GracePolicy,
    GradeCategory,
    GradeItem,
    Score,
    ScoreChange,
    ScoreSource,
)
from coursesite.models.schedule import CourseEvent, Lecture, LectureKind

__all__ = [
    "Course",
    "CourseEvent",
    "GracePolicy",
    "GradeCategory",
    "GradeItem",
    "GroupMembership",
    "Lecture",
    "LectureKind",
    "Membership",
    "ProjectGroup",
    "Role",
    "Score",
    "ScoreChange",
    "ScoreSource",
]
