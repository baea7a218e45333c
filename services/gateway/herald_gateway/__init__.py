"""The gateway: the web console and Herald's APIs from one origin.

`app.py` builds the Starlette app; `settings.py` is `HERALD_GATEWAY_*`; `api/` serves the
console (`site.py`) and forwards `/v1` to the service owning each path (`proxy.py`,
streaming); `domain/` knows which service owns which path (`routes.py`) and how static
files are served (`static.py`); `metrics.py` its Prometheus metrics.
"""
