"""bookmarks.pg_arrays: a column of values goes to PostgreSQL as one array literal, read back as given."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import pytest
from django.db import DataError, connection, transaction

from bookmarks import pg_arrays

needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's array literals")

AWKWARD_TEXT = [
    "",
    " spaced ",
    "NULL",
    "null",
    '"quoted"',
    "back\\slash\\",
    '\\"',
    "{braces},commas",
    "it's",
    "line\nbreak\ttab",
    "页面 标题",
    "emoji \U0001f600",
    None,
]


def read_back(values: list[object], array_type: str) -> list[object]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (%s)::{array_type}[]", [pg_arrays.literal(values)])
        return cursor.fetchone()[0]


@needs_postgres
@pytest.mark.django_db
def test_text_that_needs_quoting_or_escaping_reads_back_as_given():
    assert read_back(AWKWARD_TEXT, "text") == AWKWARD_TEXT


@needs_postgres
@pytest.mark.django_db
def test_numbers_times_and_truth_values_read_back_as_given():
    moments = [datetime(2026, 12, 5, 5, 50, 1, 123456, tzinfo=UTC), None]
    elsewhere = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    assert read_back([0, -7, 2**40, None], "bigint") == [0, -7, 2**40, None]
    assert read_back([*moments, elsewhere], "timestamptz") == [*moments, elsewhere]
    assert read_back([date(2026, 12, 5)], "date") == [date(2026, 12, 5)]
    assert read_back([True, False, None], "boolean") == [True, False, None]


@needs_postgres
@pytest.mark.django_db
def test_a_nul_character_is_refused_not_dropped():
    with pytest.raises((DataError, ValueError)), transaction.atomic():
        read_back(["before\x00after"], "text")


def test_a_column_with_a_value_of_another_type_goes_as_a_list():
    assert pg_arrays.literal(["a", Decimal("1.5")]) == ["a", Decimal("1.5")]
    assert pg_arrays.literal([1.5]) == [1.5]


def test_the_literal_quotes_every_element_and_writes_none_as_null():
    assert pg_arrays.literal(['a"b', "c\\d", 3, None]) == '{"a\\"b","c\\\\d","3",NULL}'


def test_an_int_of_a_subclass_is_written_as_its_number():
    class Size(int, Enum):
        BIG = 2

    assert pg_arrays.literal([Size.BIG, True, False]) == '{"2","1","0"}'
