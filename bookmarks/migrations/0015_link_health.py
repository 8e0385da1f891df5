"""Link health (issue 19, part 4): the last periodic check of each bookmark's link, in its own table."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bookmarks', '0014_page_text_search'),
    ]

    operations = [
        migrations.CreateModel(
            name='LinkHealth',
            fields=[
                ('bookmark', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='health', serialize=False, to='bookmarks.bookmark')),
                ('outcome', models.CharField(choices=[('ok', 'OK'), ('moved', 'Moved'), ('gone', 'Gone'), ('failing', 'Failing'), ('refused', 'Not checked (address refused)')], default='ok', max_length=10)),
                ('broken', models.BooleanField(default=False)),
                ('http_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('final_url', models.TextField(blank=True)),
                ('error', models.CharField(blank=True, max_length=500)),
                ('failing_since', models.DateTimeField(blank=True, null=True)),
                ('failures', models.PositiveSmallIntegerField(default=0)),
                ('checked_at', models.DateTimeField(blank=True, null=True)),
                ('next_check_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'indexes': [models.Index(fields=['next_check_at'], name='linkhealth_next_check'), models.Index(condition=models.Q(('broken', True)), fields=['broken'], name='linkhealth_broken'), models.Index(condition=models.Q(('outcome', 'moved')), fields=['outcome'], name='linkhealth_moved')],
            },
        ),
    ]
