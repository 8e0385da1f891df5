"""PostgreSQL: tell the planner what ``favsite_nonascii_bigrams`` (0008) really costs.

``COST 10`` instead of 1000: about what a call costs (~7 µs for a Chinese
title, well under 1 µs for an all-ASCII text). The planner charges that cost
for the index's recheck condition on every candidate row; at 1000 it ran the
two-character query with parallel workers, which on two cores took 13-20 ms
for the page's ids and 8-10 ms for its capped count, against 6.5 ms and
1.6 ms in one process (100,000 bookmarks, a term in 6 % of them). With 10 it
still prefers the index to computing the pieces row by row along another
index (a rare term: 0.1 ms).
"""

from django.db import migrations


def set_cost(cost: int):  # noqa: ANN201 (a RunPython callable)
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER FUNCTION favsite_nonascii_bigrams(text) COST {cost}")

    return run


class Migration(migrations.Migration):
    dependencies = [("bookmarks", "0008_search_bigrams_nonascii")]

    operations = [migrations.RunPython(set_cost(10), set_cost(1000), elidable=False)]
