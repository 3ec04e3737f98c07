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
    LetterGrade,
    RegradeRequest,
    RegradeState,
    Score,
    ScoreChange,
    ScoreSource,
)
from coursesite.models.schedule import CourseEvent, Lecture, LectureKind
from coursesite.models.tokens import ApiToken, TokenScope

__all__ = [
    "ApiToken",
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
    "LetterGrade",
    "Membership",
    "ProjectGroup",
    "RegradeRequest",
    "RegradeState",
    "Role",
    "Score",
    "ScoreChange",
    "ScoreSource",
    "TokenScope",
]
