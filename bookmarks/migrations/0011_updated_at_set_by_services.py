"""``updated_at`` is set by bookmarks.services instead of ``auto_now``: a change in Python only.

State only: on SQLite an AlterField rebuilds the table, which drops the
search index's triggers (migration 0003), and the column itself is unchanged.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bookmarks', '0010_search_bigrams_linear'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='bookmark',
                    name='updated_at',
                    field=models.DateTimeField(default=django.utils.timezone.now),
                ),
            ],
        ),
    ]
