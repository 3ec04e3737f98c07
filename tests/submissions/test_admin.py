"""Extensions and hand-ins in the instructor panel."""

from datetime import timedelta

from django.utils import timezone

from submissions.models import Extension, Submission
from tests.submissions.conftest import zip_of


def grant_in_panel(client, handins, days):
    due = timezone.localtime(timezone.now() + timedelta(days=days), handins.personas.course.tz)
    return client.post(
        "/admin/submissions/extension/add/",
        {
            "item": handins.assignment.item.pk,
            "student": handins.personas.carol.pk,
            "due_at_0": due.strftime("%Y-%m-%d"),
            "due_at_1": due.strftime("%H:%M:%S"),
            "reason": "medical report",
        },
    )


def staff_client(client, handins):
    from coursesite.services import staff_access_grant

    staff_access_grant(user=handins.personas.bob)
    client.force_login(handins.personas.bob)
    return client


def test_it_grants_an_extension_in_the_panel_and_replaces_an_earlier_one(client, handins):
    client = staff_client(client, handins)
    assert grant_in_panel(client, handins, 3).status_code == 302
    assert grant_in_panel(client, handins, 5).status_code == 302
    live = Extension.objects.filter(revoked_at__isnull=True)
    assert live.count() == 1
    assert live.get().granted_by == handins.personas.bob
    assert Extension.objects.filter(revoked_at__isnull=False).count() == 1


def test_it_revokes_extensions_with_the_panel_action(client, handins):
    client = staff_client(client, handins)
    grant_in_panel(client, handins, 3)
    extension = Extension.objects.get()
    answer = client.post(
        "/admin/submissions/extension/",
        {"action": "revoke", "_selected_action": [extension.pk]},
    )
    assert answer.status_code == 302
    extension.refresh_from_db()
    assert extension.revoked_by == handins.personas.bob


def test_it_activates_an_earlier_hand_in_with_the_panel_action(client, handins):
    first = handins.upload(handins.personas.carol, zip_of({"mlp.py": b"# 1\n"})).json()
    handins.upload(handins.personas.carol, zip_of({"mlp.py": b"# 2\n"}))
    client = staff_client(client, handins)
    answer = client.post(
        "/admin/submissions/submission/", {"action": "activate", "_selected_action": [first["id"]]}
    )
    assert answer.status_code == 302
    assert list(Submission.objects.filter(active=True).values_list("pk", flat=True)) == [
        first["id"]
    ]


def test_it_refuses_an_extension_for_a_student_of_another_course(handins):
    import pytest
    from django.core.exceptions import ValidationError

    from submissions.services import extension_grant

    with pytest.raises(ValidationError, match="not a student"):
        extension_grant(
            item=handins.assignment.item,
            student=handins.personas.dave,
            due_at=timezone.now() + timedelta(days=2),
            reason="typo",
            granted_by=handins.personas.bob,
        )
    assert not Extension.objects.exists()
