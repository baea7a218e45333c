"""The inserter: a faust worker that turns requests into rows and one event per employee.

`app.py` builds the faust app and its two agents (allocations and revocations; pushes);
`settings.py` is `HERALD_INSERTER_*`; `api/` is the request topics' consumer
(`requests_topic.py`); `domain/` routes each record (`dispatcher.py`: parse, retry,
dead-letter), claims and writes an allocation or a push (`claims.py`,
`allocation_store.py`, `push_store.py`, `inbox_writer.py`: COPY under the writer lock; an
allocation chunk by chunk), publishes each request or chunk in one Kafka transaction
(`publisher.py`, `transactions.py`) and words failures for people (`failures.py`);
`metrics.py` its Prometheus metrics; faust's private hooks for read_committed stay in one
module of their own.
"""
