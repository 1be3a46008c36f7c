"""PostgreSQL: no parallel scans of the figure table. A figure read sums a few thousand
rows of index ranges; the planner, which cannot tell how few groups they make, chose a
parallel aggregate, whose workers cost more to start than the sums (and take the cores of
other requests on a small server). The reads used to turn it off with a transaction and a
SET LOCAL around each split: two more round trips per read."""

from django.db import migrations

TABLE = "figures_figurebucket"


def _set(value: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {TABLE} {value}")
    return run


class Migration(migrations.Migration):
    dependencies = [("figures", "0005_lead_time")]

    operations = [
        migrations.RunPython(_set("SET (parallel_workers = 0)"),
                             _set("RESET (parallel_workers)")),
    ]
