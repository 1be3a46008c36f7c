from django.db import migrations

from zhenggai.problems import append_only


def install(apps, schema_editor):
    append_only.install(schema_editor)


def remove(apps, schema_editor):
    append_only.remove(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("problems", "0004_random_event_ids"),
    ]

    operations = [migrations.RunPython(install, remove)]
