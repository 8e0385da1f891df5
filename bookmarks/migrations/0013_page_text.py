"""Page text in its own table (issue 19) and the per-person switch for keeping it."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bookmarks', '0012_hold_when_busy'),
    ]

    operations = [
        migrations.AddField(
            model_name='preferences',
            name='keep_text',
            field=models.BooleanField(default=True),
        ),
        migrations.CreateModel(
            name='PageText',
            fields=[
                ('bookmark', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='page_text', serialize=False, to='bookmarks.bookmark')),
                ('state', models.CharField(choices=[('pending', 'Keeping the text'), ('kept', 'Text kept'), ('empty', 'No readable text found'), ('not_text', 'Not a web page: no text kept'), ('failed', 'The text could not be fetched')], default='pending', max_length=10)),
                ('text', models.TextField(blank=True)),
                ('language', models.CharField(blank=True, max_length=35)),
                ('word_count', models.PositiveIntegerField(default=0)),
                ('content_type', models.CharField(blank=True, max_length=100)),
                ('error', models.CharField(blank=True, max_length=500)),
                ('extracted_at', models.DateTimeField(blank=True, null=True)),
                ('queued_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'indexes': [models.Index(fields=['state', 'queued_at'], name='pagetext_state_queued')],
            },
        ),
    ]
