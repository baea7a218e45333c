"""The allocation service: the API that HR admins and other systems talk to.

`app.py` builds the FastAPI app and its lifespan (pool, producer, the outbox relay and the
worker watch under the supervisor); `settings.py` is `HERALD_ALLOCATION_*`; `api/` holds
the routes (allocations and their review, employees, pushes, the inbox, dev sign-in) and
their bodies (`schemas.py`); `domain/` accepts requests (`accepting.py`: idempotency per
caller; `outbox.py`: the request commits with its row), previews and streams recipients
(`allocations.py`), imports the directory (`employee_csv.py`), reads the inbox and says
when no worker picks requests up (`worker_watch.py`); `metrics.py` its Prometheus
metrics; `cli.py` the `herald` command (migrations, topics, imports, demo data).
"""
