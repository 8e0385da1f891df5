# Imports kept in pieces (ImportPart), one active import per person, a heartbeat for stalled ones.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

PART_BYTES = 1024 * 1024


def keep_waiting_uploads(apps, schema_editor):
    """Copy the files of imports not finished into parts; of several active imports of one person,
    the newest stays and the others are ended with a message (the new constraint allows one)."""
    ImportJob = apps.get_model("bookmarks", "ImportJob")
    ImportPart = apps.get_model("bookmarks", "ImportPart")
    seen_owners = set()
    for job in ImportJob.objects.filter(state__in=("queued", "running")).order_by("-created_at", "-id"):
        if job.owner_id in seen_owners:
            ImportJob.objects.filter(pk=job.pk).update(
                state="failed", content=b"", error="Stopped: another import of yours was waiting. Upload it again."
            )
            continue
        seen_owners.add(job.owner_id)
        content = bytes(job.content)
        ImportPart.objects.bulk_create(
            ImportPart(job_id=job.pk, number=number, data=content[start : start + PART_BYTES])
            for number, start in enumerate(range(0, len(content), PART_BYTES))
        )


class Migration(migrations.Migration):
    dependencies = [
        ("bookmarks", "0017_list_filters"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportPart",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField()),
                ("data", models.BinaryField()),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="parts", to="bookmarks.importjob"
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="importpart",
            constraint=models.UniqueConstraint(fields=("job", "number"), name="import_part_order"),
        ),
        migrations.AddField(
            model_name="importjob",
            name="updated_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(keep_waiting_uploads, migrations.RunPython.noop),
        migrations.RemoveField(model_name="importjob", name="content"),
        migrations.AddConstraint(
            model_name="importjob",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state__in", ("queued", "running"))),
                fields=("owner",),
                name="one_active_import_per_owner",
            ),
        ),
    ]
