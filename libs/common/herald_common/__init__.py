"""What every Herald service shares at run time, one concept per module.

The event contract (`events.py`, `catalogue.py` for topics, `stream_frames.py`), settings
(`settings.py`), Kafka and PostgreSQL (`kafka.py`, `topics.py`, `db.py`, `migrate.py` with
`migrations/`), the notifications writer lock and the claim of a request
(`inbox_writes.py`, `request_claim.py`), consumed and dead-lettered records
(`consumed.py`, `dead_letter.py`), the retry rule (`retry.py`), background work
(`lifespan.py`, `supervisor.py`, `periodic.py`), criteria to SQL (`criteria_sql.py`),
tokens and channels (`auth/`) and logging (`logs.py`).
"""
