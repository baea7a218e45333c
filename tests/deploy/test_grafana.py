"""deploy/grafana: every dashboard panel and alert rule queries metrics the services expose."""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import yaml
from prometheus_client.metrics import MetricWrapperBase

from tests.support.deploy import REPO, SERVICE_SETTINGS

DASHBOARD = REPO / "deploy" / "grafana" / "herald.json"
SERIES_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
}


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _metrics() -> list[MetricWrapperBase]:
    # Every service's metrics class, `herald_<service>.metrics.<Service>Metrics`.
    owners = [
        getattr(importlib.import_module(f"herald_{s}.metrics"), f"{s.capitalize()}Metrics")()
        for s in SERVICE_SETTINGS
    ]
    return [m for o in owners for m in vars(o).values() if isinstance(m, MetricWrapperBase)]


def _exposed() -> dict[str, str]:
    """Series name -> the metric it belongs to (private fields: see tests/unit/test_metrics)."""
    return {
        metric._name + suffix: metric._name
        for metric in _metrics()
        for suffix in SERIES_SUFFIXES[metric._type]
    }


def _queries() -> list[str]:
    return [
        target["expr"] for panel in _dashboard()["panels"] for target in panel.get("targets", [])
    ]


def test_every_query_names_an_exposed_series() -> None:
    exposed = _exposed()
    for query in _queries():
        names = re.findall(r"\bherald_[a-z_]+", query)
        assert names, query
        for name in names:
            assert name in exposed, f"{name} in {query!r} is not exposed by any service"


def test_every_metric_is_on_the_dashboard() -> None:
    exposed = _exposed()
    shown = {exposed[n] for q in _queries() for n in re.findall(r"\bherald_[a-z_]+", q)}
    assert shown == {metric._name for metric in _metrics()}


def test_panels_are_well_formed_and_use_the_datasource_variable() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == "herald-overview"
    (variable,) = dashboard["templating"]["list"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"]
            assert panel["description"]


ALERTS = REPO / "deploy" / "grafana" / "alerts.yaml"


def _alert_rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(ALERTS.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_every_alert_names_an_exposed_series() -> None:
    exposed = _exposed()
    for rule in _alert_rules():
        names = re.findall(r"\bherald_[a-z_]+", rule["expr"])
        assert names, rule["alert"]
        for name in names:
            assert name in exposed, f"{name} in alert {rule['alert']} is not exposed"


def test_alert_rules_have_the_fields_prometheus_requires() -> None:
    rules = _alert_rules()
    assert [r["alert"] for r in rules] == [
        "HeraldAllocationWaitingForWorker",
        "HeraldAllocationRequestsNotOnKafka",
    ]
    for rule in rules:
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule
        assert rule["labels"]["severity"]
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]
