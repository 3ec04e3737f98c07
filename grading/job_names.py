"""How staff pages name a grading job's owner and link its subject.

A job's ``owner`` is ``student:<user id>`` or ``group:<project group id>``: both live in
coursesite, below grading, so grading names them itself ("Carol Demir (carol)", "Group 2").

A job's ``subject`` (``submission:42``) belongs to the layer that created the job, which grading
never imports. That layer registers, when its app is ready, how a subject of its kind becomes a
link (``@subject_link("submission")``); a subject of a kind nobody registered is shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib.auth.models import User

from coursesite.models import Course, ProjectGroup

SubjectLink = Callable[[Course, int], str]

_subject_links: dict[str, SubjectLink] = {}


def subject_link(kind: str) -> Callable[[SubjectLink], SubjectLink]:
    """Register the function that turns the id of a ``kind:<id>`` subject into a page's URL.

    It is called once per job shown, so it must not query the database.
    """

    def register(link: SubjectLink) -> SubjectLink:
        _subject_links[kind] = link
        return link

    return register


def subject_url(course: Course, subject: str) -> str | None:
    """The page of a job's subject, if the layer that made the job says how to link it."""
    kind, _, pk = subject.partition(":")
    link = _subject_links.get(kind)
    return link(course, int(pk)) if link is not None and pk.isdigit() else None


def person_name(user: User) -> str:
    """A person as staff pages name them: "Carol Demir (carol)", or the username alone."""
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


def _ids(owners: Iterable[str], kind: str) -> set[int]:
    prefix = f"{kind}:"
    return {
        int(owner.removeprefix(prefix))
        for owner in owners
        if owner.startswith(prefix) and owner.removeprefix(prefix).isdigit()
    }


def owner_names(owners: Iterable[str]) -> dict[str, str]:
    """The name of each owner (``student:7``, ``group:3``) that still exists; two queries at most.

    An owner that names nobody (a deleted group, an unknown kind) is left out: callers show the
    owner string as it is.
    """
    owners = set(owners)
    names: dict[str, str] = {}
    if students := _ids(owners, "student"):
        for user in User.objects.filter(pk__in=students).only(
            "username", "first_name", "last_name"
        ):
            names[f"student:{user.pk}"] = person_name(user)
    if groups := _ids(owners, "group"):
        for pk, name in ProjectGroup.objects.filter(pk__in=groups).values_list("pk", "name"):
            names[f"group:{pk}"] = name
    return names
