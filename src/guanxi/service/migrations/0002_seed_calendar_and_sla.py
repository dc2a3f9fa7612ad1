"""The default business calendar (standard hours, China's public holidays and make-up days) and SLA policies
per priority for any classification; both are the administrator's data afterwards."""

from django.db import migrations

# priority → (first response, resolution) in business minutes
TARGETS = {"urgent": (30, 240), "high": (60, 480), "normal": (240, 1440), "low": (480, 2880)}


def seed(apps, schema_editor):
    from guanxi.service.holidays_cn import load_cn_holidays

    BusinessCalendar = apps.get_model("service", "BusinessCalendar")
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    if not BusinessCalendar.objects.exists():
        data = load_cn_holidays()
        BusinessCalendar.objects.create(
            name="中国大陆工作日 / Mainland China working days", timezone="Asia/Shanghai", is_default=True,
            hours={"mon": ["09:00-12:00", "13:30-18:00"], "tue": ["09:00-12:00", "13:30-18:00"],
                   "wed": ["09:00-12:00", "13:30-18:00"], "thu": ["09:00-12:00", "13:30-18:00"],
                   "fri": ["09:00-12:00", "13:30-18:00"], "sat": [], "sun": []},
            holidays=data["holidays"], workdays=data["workdays"])
    if not SlaPolicy.objects.exists():
        for priority, (first, resolution) in TARGETS.items():
            SlaPolicy.objects.create(name=priority, priority=priority, classification="",
                                     first_response_minutes=first, resolution_minutes=resolution)


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
