"""The course's roster kept in step with the LMS's (Names and Role Provisioning Services).

A sync reads every member of the linked LMS course, page by page, and compares them with the
course's roster. The rules, in order:

1. **Who is who.** An LMS member is matched to a membership of the course the way a launch is
   (``lms.selectors.roster_membership``): by SIS id (``lis_person_sourcedid`` against
   ``Membership.sis_user_id``), then by email, case-insensitively, unless that member has another
   SIS id, then by the coursesite user an earlier launch or sync tied to the LMS user. A key that
   matches two memberships matches nobody; a membership two LMS members match is a conflict,
   listed and left alone.
2. **Students.** An LMS learner (role Learner, and no staff role) who is active there:
   - matches no membership: ``add``. The user is an existing coursesite account when one is
     tied to the LMS user, holds the SIS id in another course, or alone has the email; else a
     new account, its username the email's local part (or the SIS id, or the LMS id), made
     unique, with no password (they come in through the LMS).
   - matches an inactive student: ``reactivate``.
   - matches an active student whose email, name or SIS id differ: ``update`` (a blank on the
     LMS never overwrites a value here).
   - matches a student the LMS user is not tied to yet: ``link``, so that grades can be posted
     to them before they ever launch.
   - matches a member of staff: nothing (coursesite's roster decides who is staff).
3. **Dropped students.** An active student whom no linked LMS course lists as an active learner
   (inactive, deleted, or not listed at all) is made inactive: ``deactivate``. Never deleted:
   their work and scores stay.
4. **Staff.** An active LMS instructor, TA, administrator or content developer who is not staff
   here is listed as ``staff_on_lms`` and never applied: staff are added in the instructor panel.

A dry run stores the changes it found; a real sync makes exactly them in one transaction and
stores them too. Applying a dry run refuses when the LMS roster has changed since: staff apply
what they read. An LMS that fails (an HTTP error, an answer that is not a roster, or a roster
with no active learner at all while the course has active students) stores the error and
changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from lti_tool.models import LtiContext, LtiUser

from coursesite.models import Membership, Role
from lms.lms_client import LmsClient, LmsServiceError
from lms.models import CourseLink, RosterSync
from lms.services import lti_user_tie

ADD, REACTIVATE, UPDATE, LINK, DEACTIVATE = "add", "reactivate", "update", "link", "deactivate"
STAFF_ON_LMS, CONFLICT = "staff_on_lms", "conflict"
APPLIED = (ADD, REACTIVATE, UPDATE, LINK, DEACTIVATE)
CHANGE_LABELS = {
    ADD: "Add as a student",
    REACTIVATE: "Make active again",
    UPDATE: "Update",
    LINK: "Tie to the LMS user",
    DEACTIVATE: "Make inactive",
    STAFF_ON_LMS: "Staff on the LMS, not on coursesite",
    CONFLICT: "Conflict",
}
CHANGE_NOTES = {
    LINK: "so that grades reach them before they first launch",
    DEACTIVATE: "the LMS no longer lists them; their work and scores are kept",
    STAFF_ON_LMS: "not applied: add them in the panel",
    CONFLICT: "another LMS user matches this member too: left alone",
}

MEMBERSHIP_URI = "http://purl.imsglobal.org/vocab/lis/v2/membership"
STAFF_LMS_ROLES = {"Instructor", "TeachingAssistant", "Administrator", "ContentDeveloper"}
USERNAME_UNSAFE = re.compile(r"[^a-z0-9._+-]+")
USERNAME_MAX = 150


@dataclass(frozen=True)
class LmsMember:
    """A member of the LMS course as NRPS lists them."""

    user_id: str
    active: bool
    learner: bool
    staff: bool
    email: str
    first_name: str
    last_name: str
    sis_id: str

    @property
    def shown_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def context_roles(roles: Iterable[str]) -> set[str]:
    """The short context roles of NRPS role URIs, sub-roles included: ``...membership#Learner`` is
    Learner, ``...membership/Instructor#TeachingAssistant`` is Instructor and TeachingAssistant."""
    found = set()
    for role in roles:
        if not isinstance(role, str):
            continue
        if "/" not in role and ":" not in role:
            found.add(role)
        elif role.startswith(MEMBERSHIP_URI):
            path, _, name = role.removeprefix(MEMBERSHIP_URI).partition("#")
            found.add(name)
            if path.startswith("/"):
                found.add(path[1:])
    return found


def lms_member(entry: Mapping[str, Any]) -> LmsMember:
    """One NRPS member entry; raises ``LmsServiceError`` for an entry without a user id."""
    user_id = entry.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise LmsServiceError("The LMS roster lists a member without a user_id.")

    def text(key: str) -> str:
        value = entry.get(key)
        return value.strip() if isinstance(value, str) else ""

    roles = context_roles(entry.get("roles") or [])
    staff = bool(roles & STAFF_LMS_ROLES)
    first, last = text("given_name"), text("family_name")
    if not (first or last) and text("name"):
        first, _, last = text("name").rpartition(" ")
    email = text("email")
    try:
        validate_email(email)
    except ValidationError:
        # An address coursesite cannot hold is no address to match or write.
        email = ""
    return LmsMember(
        user_id=user_id,
        # NRPS leaves the status out for an active member.
        active=entry.get("status", "Active") == "Active",
        learner="Learner" in roles and not staff,
        staff=staff,
        email=email,
        first_name=first[:150],
        last_name=last[:150],
        sis_id=text("lis_person_sourcedid")[:64],
    )


@dataclass
class Roster:
    """The course's memberships with what they are matched by, loaded in a few queries."""

    memberships: list[Membership]
    # (registration id, LMS user id) -> coursesite user id, from django-lti's LtiUser.
    tied: dict[tuple[int, str], int]
    by_sis: dict[str, list[Membership]] = field(default_factory=dict)
    by_email: dict[str, list[Membership]] = field(default_factory=dict)
    by_user: dict[int, Membership] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for membership in self.memberships:
            if membership.sis_user_id:
                self.by_sis.setdefault(membership.sis_user_id, []).append(membership)
            if membership.user.email:
                self.by_email.setdefault(membership.user.email.lower(), []).append(membership)
            self.by_user[membership.user_id] = membership

    def match(self, member: LmsMember, registration_id: int) -> Membership | None:
        """The membership the LMS member is (rule 1)."""
        if member.sis_id and len(self.by_sis.get(member.sis_id, [])) == 1:
            return self.by_sis[member.sis_id][0]
        found = self.by_email.get(member.email.lower(), []) if member.email else []
        if len(found) == 1 and (not member.sis_id or found[0].sis_user_id in ("", member.sis_id)):
            return found[0]
        tied = self.tied.get((registration_id, member.user_id))
        return self.by_user.get(tied) if tied is not None else None


@dataclass
class LmsRosters:
    """What the LMS courses linked to the course list: ``entries`` (as NRPS sent them) and
    ``own`` of the link's LMS course, ``others`` of the course's other links by registration id,
    which only keep their students active."""

    entries: list[dict[str, Any]]
    own: list[LmsMember]
    others: list[tuple[int, list[LmsMember]]]


def load_roster(link: CourseLink, registrations: Iterable[int]) -> Roster:
    memberships = list(
        Membership.objects.filter(course_id=link.course_id)
        .select_related("user")
        .order_by("user__username")
    )
    tied = {
        (registration, sub): user_id
        for registration, sub, user_id in LtiUser.objects.filter(
            registration_id__in=list(registrations), auth_user__isnull=False
        ).values_list("registration_id", "sub", "auth_user_id")
    }
    return Roster(memberships, tied)


def fetch_members(link: CourseLink) -> list[dict[str, Any]]:
    """Every member of the LMS course of ``link``; raises ``LmsServiceError``."""
    context = link.context
    registration = context.deployment.registration
    if not registration.is_active:
        raise LmsServiceError("The LMS registration is switched off.")
    if not context.memberships_url:
        raise LmsServiceError(
            "The LMS has not given a roster URL for this course (Names and Role Provisioning "
            "Services): launch the tool from the LMS course once, or ask the LMS's administrator "
            "to allow the service."
        )
    with LmsClient(registration) as client:
        return client.members(context.memberships_url)


def person(membership: Membership) -> dict[str, Any]:
    return {
        "username": membership.user.username,
        "name": membership.user.get_full_name(),
        "sis_user_id": membership.sis_user_id,
    }


def lms_person(member: LmsMember) -> dict[str, Any]:
    return {
        "lms_user_id": member.user_id,
        "name": member.shown_name,
        "email": member.email,
        "sis_user_id": member.sis_id,
    }


def updates(membership: Membership, member: LmsMember) -> dict[str, list[str]]:
    """What the LMS says differently of a student: ``{field: [here, on the LMS]}``."""
    user = membership.user
    found = {}
    if member.email and member.email.lower() != user.email.lower():
        found["email"] = [user.email, member.email]
    if member.first_name and member.first_name != user.first_name:
        found["first_name"] = [user.first_name, member.first_name]
    if member.last_name and member.last_name != user.last_name:
        found["last_name"] = [user.last_name, member.last_name]
    if member.sis_id and member.sis_id != membership.sis_user_id:
        found["sis_user_id"] = [membership.sis_user_id, member.sis_id]
    return found


class Usernames:
    """Usernames for new accounts, unique among the site's users and each other."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def new(self, member: LmsMember) -> str:
        for source in (member.email.partition("@")[0], member.sis_id, f"lms-{member.user_id}"):
            base = USERNAME_UNSAFE.sub("-", source.lower()).strip("-.")[: USERNAME_MAX - 8]
            if base:
                break
        existing = set(
            User.objects.filter(username__istartswith=base).values_list("username", flat=True)
        )
        taken = {name.lower() for name in existing} | self.taken
        username, number = base, 1
        while username.lower() in taken:
            number += 1
            username = f"{base}-{number}"
        self.taken.add(username.lower())
        return username


def existing_user(member: LmsMember, registration_id: int) -> User | None:
    """A coursesite account that is the LMS member though not on this course's roster."""
    tied = LtiUser.objects.filter(
        registration_id=registration_id, sub=member.user_id, auth_user__isnull=False
    ).first()
    if tied is not None:
        return tied.auth_user
    if member.sis_id:
        users = list(User.objects.filter(memberships__sis_user_id=member.sis_id).distinct()[:2])
        if len(users) == 1:
            return users[0]
    if member.email:
        users = list(User.objects.filter(email__iexact=member.email)[:2])
        if len(users) == 1:
            return users[0]
    return None


def plan_changes(link: CourseLink, rosters: LmsRosters) -> list[dict[str, Any]]:
    """The changes that bring the course's roster in step with the LMS (the module's rules)."""
    registration_id = link.context.deployment.registration_id
    roster = load_roster(link, [registration_id, *(reg for reg, _ in rosters.others)])
    changes: list[dict[str, Any]] = []
    claimed: dict[int, str] = {}
    listed_active: set[int] = set()
    usernames = Usernames()

    for other_registration, members in rosters.others:
        for member in members:
            found = roster.match(member, other_registration)
            if found is not None and member.active and member.learner:
                listed_active.add(found.pk)

    for member in rosters.own:
        found = roster.match(member, registration_id)
        if found is not None:
            if claimed.get(found.pk, member.user_id) != member.user_id:
                changes.append({"change": CONFLICT, **person(found), **lms_person(member)})
                listed_active.add(found.pk)
                continue
            claimed[found.pk] = member.user_id
        if not member.active:
            continue
        if member.staff:
            if found is None:
                changes.append({"change": STAFF_ON_LMS, **lms_person(member)})
            elif found.role == Role.STUDENT:
                changes.append({"change": STAFF_ON_LMS, **lms_person(member), **person(found)})
            if found is not None:
                listed_active.add(found.pk)
            continue
        if not member.learner:
            continue
        if found is None:
            user = existing_user(member, registration_id)
            if user is not None and user.pk in roster.by_user:
                clash = roster.by_user[user.pk]
                changes.append({"change": CONFLICT, **person(clash), **lms_person(member)})
                continue
            changes.append(
                {
                    "change": ADD,
                    "username": user.username if user is not None else usernames.new(member),
                    "existing_user": user is not None,
                    "first_name": member.first_name,
                    "last_name": member.last_name,
                    **lms_person(member),
                }
            )
            continue
        if found.role != Role.STUDENT:
            continue
        listed_active.add(found.pk)
        differs = updates(found, member)
        tie = roster.tied.get((registration_id, member.user_id)) != found.user_id
        entry = {**person(found), "lms_user_id": member.user_id}
        if not found.active:
            changes.append({"change": REACTIVATE, **entry, "fields": differs, "tie": tie})
        elif differs:
            changes.append({"change": UPDATE, **entry, "fields": differs, "tie": tie})
        elif tie:
            changes.append({"change": LINK, **entry})

    for membership in roster.memberships:
        if (
            membership.role == Role.STUDENT
            and membership.active
            and membership.pk not in listed_active
        ):
            changes.append({"change": DEACTIVATE, **person(membership)})
    return changes


def lms_rosters(link: CourseLink) -> LmsRosters:
    """Read every LMS course linked to the course; raises ``LmsServiceError`` when one fails."""
    entries = fetch_members(link)
    others = [
        (other.context.deployment.registration_id, member_list(fetch_members(other)))
        for other in CourseLink.objects.filter(course_id=link.course_id)
        .exclude(pk=link.pk)
        .select_related("context__deployment__registration")
    ]
    return LmsRosters(entries, member_list(entries), others)


def no_learners_check(link: CourseLink, rosters: LmsRosters) -> None:
    """An LMS that lists no active learner at all, while the course has active students, is
    taken for a roster it could not read (a course not yet published, a privacy setting that
    hides learners), not for a class that dropped to a student: nothing is changed."""
    members = [*rosters.own, *(member for _, listed in rosters.others for member in listed)]
    if any(member.active and member.learner for member in members):
        return
    if Membership.objects.filter(course_id=link.course_id, role=Role.STUDENT, active=True).exists():
        raise LmsServiceError(
            "The LMS listed no active students, and this course has some: nothing was changed. "
            "Check that the LMS course is published and shares its roster with coursesite."
        )


def member_list(entries: list[dict[str, Any]]) -> list[LmsMember]:
    return [lms_member(entry) for entry in entries]


def roster_sync(
    *, link: CourseLink, run_by: User | None, dry_run: bool, confirming: RosterSync | None = None
) -> RosterSync:
    """Sync the course's roster with the LMS course of ``link`` (see the module doc) and store
    the sync, with the changes found (a dry run) or made, or with the LMS's error.

    ``confirming`` is the dry run staff read before applying: when the changes found now are not
    the same, nothing is changed and the stored sync says so.
    """
    try:
        rosters = lms_rosters(link)
        no_learners_check(link, rosters)
    except LmsServiceError as error:
        return RosterSync.objects.create(
            link=link,
            run_by=run_by,
            run_at=timezone.now(),
            dry_run=dry_run,
            changes=[],
            error=str(error),
        )
    if dry_run:
        return RosterSync.objects.create(
            link=link,
            run_by=run_by,
            run_at=timezone.now(),
            dry_run=True,
            changes=plan_changes(link, rosters),
        )
    return roster_apply(link=link, run_by=run_by, rosters=rosters, confirming=confirming)


@transaction.atomic
def roster_apply(
    *, link: CourseLink, run_by: User | None, rosters: LmsRosters, confirming: RosterSync | None
) -> RosterSync:
    """Make the changes and store the sync. The link's row is locked and the changes planned
    from the roster as it is inside the lock, so two syncs at once cannot add a student twice."""
    CourseLink.objects.select_for_update().filter(pk=link.pk).first()
    changes = plan_changes(link, rosters)
    now = timezone.now()
    if confirming is not None and confirming.changes != changes:
        return RosterSync.objects.create(
            link=link,
            run_by=run_by,
            run_at=now,
            dry_run=False,
            changes=[],
            error=(
                "The roster has changed since the dry run you read, so nothing was changed: "
                "run a new dry run and read its changes before applying them."
            ),
        )
    # django-lti's own record of the LMS course first: the ties below then hold.
    context_members_record(context=link.context, entries=rosters.entries)
    registration_id = link.context.deployment.registration_id
    for change in changes:
        change_apply(link=link, change=change, registration_id=registration_id)
    return RosterSync.objects.create(
        link=link, run_by=run_by, run_at=now, dry_run=False, changes=changes
    )


def context_members_record(*, context: LtiContext, entries: list[dict[str, Any]]) -> None:
    """Keep django-lti's members of the LMS course (``LtiUser``, ``LtiMembership``) as NRPS
    lists them; grades are posted to a course's students that its LMS course holds."""
    context.update_memberships(
        [
            {**entry, "roles": entry.get("roles") or [], "status": entry.get("status", "Active")}
            for entry in entries
        ]
    )


def change_apply(*, link: CourseLink, change: dict[str, Any], registration_id: int) -> None:
    """Make one planned change; the caller holds the transaction."""
    kind = change["change"]
    if kind not in APPLIED:
        return
    if kind == ADD:
        user = student_account(change)
        membership = Membership(
            course_id=link.course_id,
            user=user,
            role=Role.STUDENT,
            sis_user_id=change["sis_user_id"],
            active=True,
        )
        membership.full_clean()
        membership.save()
        lms_user_tie(registration_id=registration_id, sub=change["lms_user_id"], user=user)
        return
    membership = Membership.objects.select_related("user").get(
        course_id=link.course_id, user__username=change["username"]
    )
    if kind == DEACTIVATE:
        membership.active = False
        membership.save(update_fields=["active"])
        return
    if kind in (REACTIVATE, UPDATE):
        student_update(membership=membership, fields=change["fields"])
    if kind == REACTIVATE:
        membership.active = True
        membership.save(update_fields=["active"])
    if kind == LINK or change.get("tie"):
        lms_user_tie(
            registration_id=registration_id, sub=change["lms_user_id"], user=membership.user
        )


def student_account(change: Mapping[str, Any]) -> User:
    """The account an added student gets: their existing one, or a new one without a password
    (they come in through the LMS)."""
    if change["existing_user"]:
        return User.objects.get(username=change["username"])
    user = User(
        username=change["username"],
        email=change["email"],
        first_name=change["first_name"],
        last_name=change["last_name"],
        password=make_password(None),
    )
    user.full_clean()
    user.save()
    return user


def student_update(*, membership: Membership, fields: Mapping[str, list[str]]) -> None:
    """Take the LMS's email, names and SIS id of a student (``fields``: here, on the LMS)."""
    user = membership.user
    user_fields = [name for name in ("email", "first_name", "last_name") if name in fields]
    for name in user_fields:
        setattr(user, name, fields[name][1])
    if user_fields:
        user.full_clean()
        user.save(update_fields=user_fields)
    if "sis_user_id" in fields:
        membership.sis_user_id = fields["sis_user_id"][1]
        membership.full_clean()
        membership.save(update_fields=["sis_user_id"])


def lms_user_tie(*, registration_id: int, sub: str, user: User) -> None:
    """Tie the LMS user to the coursesite account, as a launch does."""
    lti_user, _ = LtiUser.objects.get_or_create(registration_id=registration_id, sub=sub)
    lti_user_tie(lti_user=lti_user, user=user)
