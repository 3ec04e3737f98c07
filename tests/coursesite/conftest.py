"""Project-group fixtures shared by the group services' and the group API's tests."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractUser

from coursesite.groups import group_create, group_invite
from coursesite.models import GroupInvitation, ProjectGroup, Role
from tests.conftest import Personas, make_member


@pytest.fixture
def erin(personas: Personas) -> AbstractUser:
    return make_member(personas.course, "erin", Role.STUDENT)


@pytest.fixture
def frank(personas: Personas) -> AbstractUser:
    return make_member(personas.course, "frank", Role.STUDENT)


@pytest.fixture
def gina(personas: Personas) -> AbstractUser:
    return make_member(personas.course, "gina", Role.STUDENT)


@pytest.fixture
def neurons(personas: Personas) -> ProjectGroup:
    return group_create(course=personas.course, founder=personas.carol, name="Neurons")


@pytest.fixture
def invitation(personas: Personas, neurons: ProjectGroup, erin: AbstractUser) -> GroupInvitation:
    return group_invite(group=neurons, invited_by=personas.carol, invited=erin)
