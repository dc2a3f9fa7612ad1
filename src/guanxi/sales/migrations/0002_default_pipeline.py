from django.db import migrations


def create_default(apps, schema_editor):
    from guanxi.sales.defaults import create_default_pipeline

    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    if not Pipeline.objects.exists():
        create_default_pipeline(Pipeline, Stage)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
