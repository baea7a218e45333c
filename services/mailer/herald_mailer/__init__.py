"""The mailer: one summary per manager after each allocation, in the inbox and by email.

`app.py` builds the app and its lifespan (the completion consumer under the supervisor);
`settings.py` is `HERALD_MAILER_*`; `api/` serves `/v1/preferences`; `domain/` consumes
completions in a consumer group (`consumer.py`), builds each manager's summary
(`summary.py`, `compose.py` with `templates/`), writes and pushes it (`store.py`,
`publisher.py`) and sends the email at most once (`processor.py`, `smtp.py`);
`metrics.py` its Prometheus metrics.
"""
