"""Record-level visibility: the one queryset in core decides, for every role."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.core.models import Team
from guanxi.core.people_services import share_record
from guanxi.core.services import assignable_users
from guanxi.customers import services
from guanxi.customers.models import Account, Contact


@pytest.fixture
def records(users):
    return {
        "a": services.create_account(users["rep_a"], {"name": "华北客户"}),
        "a2": services.create_account(users["rep_a2"], {"name": "华北客户二"}),
        "b": services.create_account(users["rep_b"], {"name": "华南客户"}),
    }


def visible(user):
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


def test_rep_sees_only_own_records(records, users):
    assert visible(users["rep_a"]) == {"华北客户"}
    assert visible(users["rep_b"]) == {"华南客户"}


def test_manager_sees_the_team_subtree(records, users, teams):
    assert visible(users["manager_a"]) == {"华北客户", "华北客户二"}
    # A sub-team created later under team A is part of the manager's view.
    sub = Team.objects.create(name="北京小组", parent=teams["a"])
    users["rep_b"].team = sub
    users["rep_b"].save()
    moved = services.update_account(users["admin"], records["b"], {"owner_id": users["rep_b"].pk}, version=1)
    assert moved.team_id == sub.pk
    assert "华南客户" in visible(users["manager_a"])


def test_admin_sees_all_and_anonymous_nothing(records, users):
    from django.contrib.auth.models import AnonymousUser

    assert visible(users["admin"]) == {"华北客户", "华北客户二", "华南客户"}
    assert visible(AnonymousUser()) == set()
    assert visible(None) == set()


def test_inactive_user_sees_nothing(records, users):
    users["rep_a"].is_active = False
    assert visible(users["rep_a"]) == set()


def test_sharing_with_a_user_and_a_team(records, users, teams):
    share_record(users["rep_b"], records["b"], user=users["rep_a"])
    assert "华南客户" in visible(users["rep_a"])
    assert "华南客户" not in visible(users["rep_a2"])
    share_record(users["rep_b"], records["b"], team=teams["a"])
    assert "华南客户" in visible(users["rep_a2"])


def test_cannot_share_what_you_cannot_edit(records, users):
    with pytest.raises(PermissionDenied):
        share_record(users["rep_a"], records["b"], user=users["rep_a"])


def test_read_only_sees_team_but_cannot_write(records, users):
    viewer = users["viewer"]
    assert visible(viewer) == {"华北客户", "华北客户二"}
    assert not Account.objects.editable_by(viewer).exists()
    with pytest.raises(PermissionDenied):
        services.create_account(viewer, {"name": "不该有"})
    assert not Account.objects.filter(name="不该有").exists()


def test_owner_choices_follow_the_hierarchy(users):
    assert set(assignable_users(users["rep_a"])) == {users["rep_a"]}
    assert set(assignable_users(users["manager_a"])) == {users["manager_a"], users["rep_a"], users["rep_a2"],
                                                         users["viewer"]}
    assert users["rep_b"] in assignable_users(users["admin"])


def test_rep_cannot_give_records_to_another_team(records, users):
    with pytest.raises(ValidationError) as err:
        services.update_account(users["rep_a"], records["a"], {"owner_id": users["rep_b"].pk}, version=1)
    assert "owner_id" in err.value.message_dict
    assert Account.objects.get(pk=records["a"].pk).owner == users["rep_a"]


def test_contact_cannot_link_an_invisible_account(records, users):
    with pytest.raises(ValidationError) as err:
        services.create_contact(users["rep_a"], {"name": "李雷", "account_ids": [records["b"].pk]})
    assert "account_ids" in err.value.message_dict
    assert not Contact.objects.exists()


def test_bulk_assign_moves_only_editable_records(records, users):
    moved = services.bulk_assign(users["manager_a"], "account", [records["a"].pk, records["b"].pk],
                                 users["rep_a2"].pk)
    assert moved == 1
    assert Account.objects.get(pk=records["b"].pk).owner == users["rep_b"]
    assert Account.objects.get(pk=records["a"].pk).owner == users["rep_a2"]


def test_visible_parts_make_up_visible_to(records, users, teams):
    """Summaries kept per owner and team (sales' monthly figures) rely on visible_to being exactly: own rows,
    rows of the teams seen, rows shared — for every kind of user; models whose rule is wider are refused."""
    from guanxi.activities.models import Task
    from guanxi.service.models import Ticket

    tasks = {k: Task.objects.create(title=k, owner=a.owner, team_id=a.team_id) for k, a in records.items()}
    share_record(users["admin"], tasks["b"], user=users["rep_a"])
    share_record(users["admin"], tasks["a2"], team=teams["b"])
    for user in [*users.values(), None]:
        parts = Task.objects.visible_parts(user)
        expected = set(Task.objects.visible_to(user).values_list("pk", flat=True))
        if parts.everything:
            assert expected == set(Task.objects.values_list("pk", flat=True))
            continue
        own = set(Task.objects.filter(owner_id=parts.owner_id).values_list("pk", flat=True))
        team = set(Task.objects.filter(team_id__in=parts.team_ids).values_list("pk", flat=True))
        assert own | team | set(parts.shared.values_list("pk", flat=True)) == expected
    with pytest.raises(TypeError):
        Account.objects.visible_parts(users["rep_a"])  # the public pool
    with pytest.raises(TypeError):
        Ticket.objects.visible_parts(users["rep_a"])  # a requester sees their tickets too
