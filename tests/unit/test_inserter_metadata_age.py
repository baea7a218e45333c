"""The inserter's faust worker consumer refreshes its metadata as often as our own consumers.

aiokafka 0.14 retries a partition's offset lookup on the broker it believes leads it and,
on NotLeaderForPartition, asks for no new metadata: a worker whose metadata went stale
during a network fault waited for faust's 300 s refresh before it consumed again.
"""

from __future__ import annotations

import pytest

from herald_common.kafka import METADATA_MAX_AGE_MS
from herald_inserter.app import create_app
from herald_inserter.settings import InserterSettings


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> InserterSettings:
    monkeypatch.setenv("HERALD_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    monkeypatch.setenv("HERALD_DATABASE_URL", "postgresql://herald@127.0.0.1:9/herald")
    return InserterSettings()


async def test_the_worker_consumer_refreshes_metadata_every_10_seconds(settings) -> None:
    app = create_app(settings)
    assert app.conf.consumer_metadata_max_age_ms == METADATA_MAX_AGE_MS == 10_000
    thread = app.consumer._thread
    consumer = thread._create_worker_consumer(app.transport)
    assert consumer._client._metadata_max_age_ms == METADATA_MAX_AGE_MS
