"""The notifier: holds the employees' Server-Sent Event streams and feeds them from Kafka.

`app.py` builds the app and its lifespan (the consumer, unread counter, delivered tally,
heartbeat and read-mark listener under the supervisor); `settings.py` is
`HERALD_NOTIFIER_*`; `api/` opens streams (`stream_query.py` reads the request,
`stream.py` authorises it, `event_stream.py` writes the response; tickets, the session
cookie and Pusher-style channel auth beside them); `domain/` reads Kafka
(`consumer.py`, `fetched_records.py`), routes records to subscribers (`registry.py`,
`subscriber.py`: bounded buffers, slow readers cut off) and runs one stream
(`stream_session.py`: replay first, then live); `compat.py` holds what relies on
uvicorn's internals; `drain.py` the farewell on shutdown; `metrics.py` its metrics.
"""
