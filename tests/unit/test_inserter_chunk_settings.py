"""The inserter's chunk settings: a first chunk no larger than the others (0081)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from herald_inserter.settings import InserterSettings


@pytest.fixture(autouse=True)
def _required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    monkeypatch.setenv("HERALD_DATABASE_URL", "postgresql://herald@127.0.0.1:9/herald")


def test_the_first_chunk_is_smaller_than_the_others_by_default() -> None:
    settings = InserterSettings()
    assert (settings.first_chunk_employees, settings.chunk_employees) == (1_000, 20_000)


def test_a_first_chunk_larger_than_a_chunk_is_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_INSERTER_CHUNK_EMPLOYEES", "500")
    with pytest.raises(
        ValidationError, match=r"first_chunk_employees \(1000\).*chunk_employees \(500\)"
    ):
        InserterSettings()
