from coursesite.models.course import (
    Course,
    GroupInvitation,
    GroupMembership,
    InvitationState,
    Membership,
    ProjectGroup,
    Role,
)
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
    "GroupInvitation",
    "GroupMembership",
    "InvitationState",
    "Lecture",
    "LectureKind",
    "Membership",
    "ProjectGroup",
    "Role",
    "Score",
    "ScoreChange",
    "ScoreSource",
]
