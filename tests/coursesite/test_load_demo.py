import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from coursesite.models import Course


def test_it_loads_the_demo_course_and_lets_every_member_log_in_with_demo(db, capsys):
    call_command("load_demo")
    output = capsys.readouterr().out
    course = Course.objects.get(slug="comp541-fall2024")
    usernames = ["aerdem", "abond", "hcapuk", *[f"student{n:02d}" for n in range(1, 13)]]
    assert sorted(course.memberships.values_list("user__username", flat=True)) == sorted(usernames)
    for username in usernames:
        assert authenticate(username=username, password="demo") is not None, username
        assert username in output


def test_it_lets_the_demo_staff_into_the_panel_but_not_the_students(db):
    call_command("load_demo")
    assert authenticate(username="aerdem", password="demo").is_staff
    assert authenticate(username="hcapuk", password="demo").is_staff
    assert not authenticate(username="student01", password="demo").is_staff


def test_it_refuses_demo_accounts_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="only in demo mode"):
        call_command("load_demo")
    assert not Course.objects.exists()
