import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.models import Activity, ActivityKind, Task, TaskStatus
from guanxi.core.models import AuditAction
from guanxi.core.records import EditConflict, audit_trail
from guanxi.customers.timeline import timeline_for


def test_log_a_call_on_an_opportunity_reaches_its_account_timeline_and_is_audited(users, zhang, deal):
    account, contact = zhang
    call = services.log_activity(
        users["rep_a"],
        {
            "kind": "call",
            "subject": "电话确认需求",
            "direction": "out",
            "duration_seconds": "300",
            "opportunity_id": deal.pk,
            "contact_id": contact.pk,
            "body": "客户要求下周报价",
        },
    )
    assert call.account_id == account.pk  # the opportunity brings its account
    assert audit_trail(call).get().action == AuditAction.CREATE
    kinds = [i.kind for i in timeline_for(account, users["rep_a"])]
    assert "activity-call" in kinds and "activity-call" in [i.kind for i in timeline_for(contact, users["rep_a"])]


def test_bad_activities_name_their_fields_and_save_nothing(users, zhang, account_b):
    account, _ = zhang
    with pytest.raises(ValidationError) as exc:
        services.log_activity(users["rep_a"], {"kind": "fax", "account_id": account_b.pk, "duration_seconds": -1})
    assert {"kind", "account_id", "duration_seconds"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        services.log_activity(users["rep_a"], {"kind": "call", "subject": "x"})
    assert "account_id" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.log_activity(users["viewer"], {"kind": "call", "subject": "x", "account_id": account.pk})
    assert not Activity.objects.exists()


def test_a_document_sent_keeps_its_file_under_the_size_cap(users, zhang, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    account, _ = zhang
    doc = services.log_activity(
        users["rep_a"],
        {"kind": "document", "document_to": "张伟", "account_id": account.pk},
        SimpleUploadedFile("报价单.pdf", b"%PDF-1.4 quote"),
    )
    assert doc.document_name == "报价单.pdf" and doc.document_size == 14
    assert doc.document_file.read() == b"%PDF-1.4 quote"
    monkeypatch.setattr(services, "DOCUMENT_MAX_BYTES", 10)
    with pytest.raises(ValidationError) as exc:
        services.log_activity(
            users["rep_a"], {"kind": "document", "account_id": account.pk}, SimpleUploadedFile("big.pdf", b"x" * 11)
        )
    assert "document_file" in exc.value.message_dict


def test_task_lifecycle_versions_and_audit(users, task):
    rep = users["rep_a"]
    task = services.update_task(rep, task, {"priority": "high", "location": "北京"}, version=1)
    assert task.version == 2
    with pytest.raises(EditConflict):
        services.update_task(rep, task, {"title": "stale"}, version=1)
    old_remind = task.remind_at
    moved = services.reschedule_task(rep, task, task.due_at + dt.timedelta(days=2))
    assert moved.at == moved.due_at and moved.remind_at == old_remind + dt.timedelta(days=2)
    done = services.complete_task(rep, moved)
    assert done.status == TaskStatus.DONE and done.completed_at is not None
    assert services.complete_task(rep, done).version == done.version  # twice: no change
    actions = [e.action for e in audit_trail(done)]
    assert actions.count(AuditAction.UPDATE) == 3 and AuditAction.CREATE in actions


def test_appointments_need_a_start_and_an_end_after_it(users):
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        services.create_task(users["rep_a"], {"title": "会议", "kind": "appointment", "end_at": now})
    assert "start_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_task(
            users["rep_a"],
            {"title": "会议", "kind": "appointment", "start_at": now, "end_at": now - dt.timedelta(hours=1)},
        )
    assert "end_at" in exc.value.message_dict
    appt = services.create_task(
        users["rep_a"], {"title": "会议", "kind": "appointment", "start_at": now, "end_at": now + dt.timedelta(hours=1)}
    )
    moved = services.reschedule_task(users["rep_a"], appt, now + dt.timedelta(days=1))
    assert moved.end_at - moved.start_at == dt.timedelta(hours=1)


def test_visibility_assignee_always_others_only_through_the_record(users, zhang, task):
    rep_b = users["rep_b"]
    given = services.create_task(
        users["rep_a"], {"title": "请协助", "owner_id": users["rep_a2"].pk, "due_at": timezone.now()}
    )
    assert Task.objects.visible_to(users["rep_a2"]).filter(pk=given.pk).exists()  # assigned: always
    assert Task.objects.visible_to(users["rep_a2"]).filter(pk=task.pk).exists() is False
    assert Task.objects.visible_to(users["manager_a"]).filter(pk=task.pk).exists()
    assert not Task.objects.visible_to(rep_b).exists()
    services.log_activity(users["rep_a"], {"kind": "email", "subject": "x", "account_id": zhang[0].pk})
    assert not Activity.objects.visible_to(rep_b).exists()
    assert Activity.objects.visible_to(users["manager_a"]).count() == 1
    with pytest.raises(PermissionDenied):
        services.complete_task(rep_b, task)


def test_hand_over_moves_accounts_open_tasks_and_open_deals_and_notes_it(users, zhang, task, deal, stages):
    from guanxi.sales import services as sales

    account, _ = zhang
    rep, rep2 = users["rep_a"], users["rep_a2"]
    won = sales.create_opportunity(rep, {"name": "已赢", "account_id": account.pk, "stage_id": stages["won"].pk})
    done = services.complete_task(rep, services.create_task(rep, {"title": "旧", "account_id": account.pk}))
    other = services.create_task(users["manager_a"], {"title": "经理自己的", "account_id": account.pk})
    result = services.hand_over(users["manager_a"], rep2.pk, from_user=rep.pk, note="离职交接")
    assert (result.accounts, result.tasks, result.opportunities) == (1, 1, 1)
    account.refresh_from_db()
    deal.refresh_from_db()
    assert account.owner == rep2 and deal.owner == rep2 and Task.objects.get(pk=task.pk).owner == rep2
    assert won.__class__.objects.get(pk=won.pk).owner == rep  # closed deals and done tasks stay as history
    assert Task.objects.get(pk=done.pk).owner == rep and Task.objects.get(pk=other.pk).owner == users["manager_a"]
    note = Activity.objects.get(kind=ActivityKind.HANDOVER)
    assert note.account == account and note.body == "离职交接"
    assert audit_trail(account).filter(action=AuditAction.ASSIGN).exists()
    assert not account.__class__.objects.filter(owner=rep).exists()


def test_hand_over_permissions_and_atomicity(users, zhang, task, account_b, monkeypatch):
    account, _ = zhang
    with pytest.raises(PermissionDenied):  # a rep: not another's accounts
        services.hand_over(users["rep_a2"], users["rep_a2"].pk, from_user=users["rep_a"].pk)
    with pytest.raises(ValidationError):  # a manager: not another team's accounts (unseen) …
        services.hand_over(users["manager_a"], users["rep_a"].pk, accounts=[account_b.pk])
    with pytest.raises(PermissionDenied):  # … nor to another team
        services.hand_over(users["manager_a"], users["rep_b"].pk, accounts=[account.pk])
    with pytest.raises(ValidationError) as exc:
        services.hand_over(users["admin"], None)
    assert {"to_user_id", "account_ids"} <= set(exc.value.message_dict)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Activity.objects, "bulk_create", broken)  # the last step fails …
    with pytest.raises(RuntimeError):
        services.hand_over(users["admin"], users["rep_b"].pk, accounts=[account.pk])
    account.refresh_from_db()
    assert account.owner == users["rep_a"] and Task.objects.get(pk=task.pk).owner == users["rep_a"]  # … nothing moved


def test_demo_gives_the_reps_an_agenda_and_a_history(db):
    from guanxi.core import demo

    assert demo.load(300, seed=3).created
    assert Activity.objects.exists() and Task.objects.filter(status=TaskStatus.OPEN).exists()
    for task in Task.objects.select_related("account"):
        assert task.at is not None and task.owner_id == task.account.owner_id
    for a in Activity.objects.select_related("account")[:50]:
        assert a.author_id == a.account.owner_id
