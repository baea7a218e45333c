"""Every setting a service reads is set in docker-compose.yml and in every overlay.

The names are enumerated from the pydantic-settings classes themselves, so a new setting
fails here until the deployment files set it, or it is added below with a reason.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Set as AbstractSet
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from herald_common.settings import DatabaseSettings, KafkaSettings, TopicSettings
from tests.support import compose
from tests.support.deploy import OVERLAYS, SERVICE_SETTINGS, env_names, named, objects

# Settings that may be left to their defaults, and why.
DEFAULTS_ARE_FINE = {
    # Tuning with defaults chosen for production.
    "HERALD_KAFKA_LINGER_MS": "5 ms, as Kafka 4's own producer default",
    "HERALD_KAFKA_MAX_BATCH_BYTES": "512 KiB batches suit the per-employee events",
    "HERALD_KAFKA_COMPRESSION_TYPE": "zstd is the right default for repetitive JSON events",
    "HERALD_KAFKA_REQUEST_TIMEOUT_MS": "aiokafka's 30 s",
    "HERALD_KAFKA_MAX_RECORD_BYTES": "1 MiB holds the largest request (a push to 10,000 ids)",
    "HERALD_ALLOCATION_TYPED_CONFIRMATION_ABOVE": "1,000 recipients, the documented policy",
    "HERALD_ALLOCATION_WORKER_WAIT_SECONDS": "30 s before a request says it waits for a worker",
    "HERALD_ALLOCATION_OUTBOX_RELAY_INTERVAL_SECONDS": "1 s between sweeps of unsent requests",
    "HERALD_ALLOCATION_WATCH_INTERVAL_SECONDS": "5 s between refreshes of the waiting gauges",
    "HERALD_ALLOCATION_SCHEDULE_INTERVAL_SECONDS": "1 s: a schedule fires within about 1 s",
    "HERALD_INSERTER_MAX_ATTEMPTS": "retry policy of the worker",
    "HERALD_INSERTER_RETRY_INITIAL_SECONDS": "retry policy of the worker",
    "HERALD_INSERTER_RETRY_MAX_SECONDS": "retry policy of the worker",
    "HERALD_INSERTER_WORKER_ID": "the host name: unique per container or pod, kept on restart",
    "HERALD_INSERTER_SESSION_TIMEOUT_SECONDS": "30 s before a vanished worker's partitions move",
    "HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS": "60 s covers a 100,000-employee publish",
    "HERALD_NOTIFIER_SUBSCRIBER_QUEUE_SIZE": "per-stream buffer before a slow reader is cut off",
    "HERALD_NOTIFIER_PING_SECONDS": "15 s, what proxies need",
    "HERALD_NOTIFIER_RETRY_MS": "the reconnect delay clients are told",
    "HERALD_NOTIFIER_SEND_TIMEOUT_SECONDS": "when a stuck socket counts as gone",
    "HERALD_NOTIFIER_REPLAY_PAGE_SIZE": "rows per replay query",
    "HERALD_NOTIFIER_DELIVERED_INTERVAL_SECONDS": "how often watchers hear a delivered count",
    "HERALD_MAILER_MAX_ATTEMPTS": "retry policy of the mailer",
    "HERALD_MAILER_RETRY_INITIAL_SECONDS": "retry policy of the mailer",
    "HERALD_MAILER_RETRY_MAX_SECONDS": "retry policy of the mailer",
    "HERALD_MAILER_MAX_LISTED_MEMBERS": "how many team members a summary lists by name",
    "HERALD_MAILER_SMTP_TIMEOUT_SECONDS": "30 s before a silent relay counts as unreachable",
    "HERALD_MAILER_MAX_POLL_INTERVAL_SECONDS": "Kafka's 5 minutes; the mailer polls every second",
    "HERALD_CHANNELS_REPLAY_PAGE_SIZE": "rows per replay query",
    "HERALD_CHANNELS_SEND_QUEUE_SIZE": "per-socket buffer before a slow reader is told to reconnect",
    "HERALD_CHANNELS_REPLICA_TIMEOUT_SECONDS": "30 s of silence before a replica's sockets leave",
    "HERALD_GATEWAY_CONNECT_TIMEOUT_SECONDS": "5 s to reach a service",
    "HERALD_GATEWAY_READ_TIMEOUT_SECONDS": "60 s per API answer; streams have no read timeout",
    "HERALD_AUTH_LEEWAY_SECONDS": "30 s of clock skew on a token's times",
    "HERALD_AUTH_JWKS_MAX_AGE_SECONDS": "the identity provider's keys are fetched every 5 min",
    "HERALD_AUTH_JWKS_MIN_INTERVAL_SECONDS": "10 s between key fetches; a failure waits as long",
    "HERALD_AUTH_JWKS_TIMEOUT_SECONDS": "5 s for the identity provider to hand over its keys",
    "HERALD_AUTH_SESSION_COOKIE": "the stream cookie's name (herald_session)",
    "HERALD_GATEWAY_SESSION_COOKIE": "the same name, read for routing streams (decision 0078)",
    # auto takes the measured fast paths where the pinned versions are installed (they are,
    # from uv.lock) and falls back by itself otherwise; public is for tests and diagnosis.
    "HERALD_NOTIFIER_COMPAT": "auto: private APIs only at the pinned versions (decision 0042)",
    "HERALD_NOTIFIER_STREAM_ACCESS_LINES": "debug: opened streams' lines (decision 0091)",
    "HERALD_INSERTER_COMPAT": "auto: faust's consumer hooks only at the pinned versions",
    # Dev mode is set everywhere; these matter only with it or instead of the JWKS URL.
    "HERALD_AUTH_DEV_TOKEN_TTL_SECONDS": "8 h, for tokens minted in dev mode only",
    "HERALD_AUTH_JWKS_FILE": "unset: RS256 keys come from HERALD_AUTH_JWKS_URL, which is set",
    # Only a secured Kafka needs these; the strimzi overlay must set them (STRIMZI below).
    "HERALD_KAFKA_SASL_MECHANISM": "no SASL on a plaintext cluster",
    "HERALD_KAFKA_SASL_USERNAME": "no SASL on a plaintext cluster",
    "HERALD_KAFKA_SASL_PASSWORD": "no SASL on a plaintext cluster",
    "HERALD_KAFKA_SSL_CAFILE": "no TLS on a plaintext cluster",
}
# Compose leaves the replica ids unset on purpose: each replica's hostname is unique.
COMPOSE_DEFAULTS_ARE_FINE = {
    "HERALD_NOTIFIER_REPLICA_ID",
    "HERALD_MAILER_REPLICA_ID",
    "HERALD_CHANNELS_REPLICA_ID",
}
STRIMZI = {
    "HERALD_KAFKA_SECURITY_PROTOCOL",
    "HERALD_KAFKA_SASL_MECHANISM",
    "HERALD_KAFKA_SASL_USERNAME",
    "HERALD_KAFKA_SASL_PASSWORD",
    "HERALD_KAFKA_SSL_CAFILE",
}
# What the `herald` CLI reads in the one-shot steps.
MIGRATE = env_names(DatabaseSettings)
CREATE_TOPICS = env_names(KafkaSettings) | env_names(TopicSettings)
EVERY_SETTING = (
    set().union(*(env_names(cls) for cls in SERVICE_SETTINGS.values())) | MIGRATE | CREATE_TOPICS
)


def _required(names: set[str], exempt: AbstractSet[str] = frozenset()) -> set[str]:
    return names - set(DEFAULTS_ARE_FINE) - exempt


def test_the_allow_list_names_real_settings() -> None:
    assert set(DEFAULTS_ARE_FINE) <= EVERY_SETTING
    assert COMPOSE_DEFAULTS_ARE_FINE <= EVERY_SETTING
    assert STRIMZI <= EVERY_SETTING


def test_the_enumeration_sees_nested_and_new_settings() -> None:
    names = env_names(SERVICE_SETTINGS["notifier"])
    assert {
        "HERALD_NOTIFIER_SHUTDOWN_GRACE_SECONDS",
        "HERALD_NOTIFIER_LOG_LEVEL",
        "HERALD_KAFKA_BOOTSTRAP",
        "HERALD_DATABASE_URL",
        "HERALD_TOPICS_VOUCHER_ALLOCATED_PARTITIONS",
    } <= names


# --- docker-compose.yml ----------------------------------------------------------------


def _compose_env(service: str) -> set[str]:
    services = compose.resolved(compose.REQUIRED_ENV)["services"]
    return set(compose.environment(services[service]))


@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_compose_sets_every_setting_of_each_service(service: str) -> None:
    needed = _required(env_names(SERVICE_SETTINGS[service]), COMPOSE_DEFAULTS_ARE_FINE)
    assert sorted(needed - _compose_env(service)) == []


def test_compose_setup_step_has_what_the_cli_reads() -> None:
    assert sorted(_required(MIGRATE | CREATE_TOPICS) - _compose_env("setup")) == []


def test_compose_sets_no_unknown_herald_variable() -> None:
    for service in compose.raw()["services"]:
        unknown = {n for n in _compose_env(service) if n.startswith("HERALD_")} - EVERY_SETTING
        assert sorted(unknown) == [], service


# --- Kubernetes ------------------------------------------------------------------------


def _pod_env(overlay: str, obj: dict[str, Any]) -> set[str]:
    """Names a container gets: its env, and the keys of the ConfigMaps it takes whole."""
    configs = {c["metadata"]["name"]: c.get("data", {}) for c in objects(overlay, "ConfigMap")}
    (container,) = obj["spec"]["template"]["spec"]["containers"]
    names = {item["name"] for item in container.get("env", [])}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, "secrets are mounted key by key, never whole"
        names |= set(configs[source["configMapRef"]["name"]])
    return names


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_manifests_set_every_setting_of_each_service(overlay: str, service: str) -> None:
    deployment = named(overlay, "Deployment", f"herald-{service}")
    names = _pod_env(overlay, deployment)
    exempt = set(STRIMZI) if overlay == "strimzi" else set()
    needed = env_names(SERVICE_SETTINGS[service]) - (set(DEFAULTS_ARE_FINE) - exempt)
    assert sorted(needed - names) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifest_jobs_have_what_the_cli_reads(overlay: str) -> None:
    migrate = _pod_env(overlay, named(overlay, "Job", "herald-migrate"))
    assert sorted(_required(MIGRATE) - migrate) == []
    if overlay != "strimzi":
        topics = _pod_env(overlay, named(overlay, "Job", "herald-create-topics"))
        assert sorted(_required(CREATE_TOPICS) - topics) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_set_no_unknown_herald_variable(overlay: str) -> None:
    for obj in (*objects(overlay, "Deployment"), *objects(overlay, "Job")):
        names = {n for n in _pod_env(overlay, obj) if n.startswith("HERALD_")}
        assert sorted(names - EVERY_SETTING) == [], obj["metadata"]["name"]


# --- The values themselves -------------------------------------------------------------

# Stand-ins for what production Secrets hold (created out of band, never committed).
SECRET_PLACEHOLDERS = {
    "url": "postgresql://herald:placeholder@db.example.internal:5432/herald",
    "hs256-secret": "placeholder-placeholder-placeholder",
    "password": "placeholder",
    "channel-auth-key": "placeholder-key",
    "channel-auth-secret": "placeholder-placeholder-placeholder",
}


def _load(
    settings: type[BaseSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The settings a process with exactly this HERALD_* environment would load."""
    for name in list(os.environ):
        if name.startswith("HERALD_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings()


@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_compose_values_are_valid_settings(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose.resolved(compose.REQUIRED_ENV)["services"]
    env = compose.environment(services[service])
    # Compose passes a variable without a value through from the shell, or leaves it unset.
    raw_env = compose.raw()["services"][service].get("environment", {})
    env = {name: value for name, value in env.items() if raw_env.get(name, "") is not None}
    _load(SERVICE_SETTINGS[service], env, monkeypatch)


def _pod_values(overlay: str, obj: dict[str, Any]) -> dict[str, str]:
    """The environment a container starts with (Secrets: the dev overlay's, else stand-ins)."""
    configs = {c["metadata"]["name"]: c.get("data", {}) for c in objects(overlay, "ConfigMap")}
    secrets = {
        s["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in s["data"].items()}
        for s in objects(overlay, "Secret")
    }
    (container,) = obj["spec"]["template"]["spec"]["containers"]
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values |= configs[source["configMapRef"]["name"]]
    for item in container.get("env", []):
        if "value" in item:
            values[item["name"]] = item["value"]
            continue
        source = item["valueFrom"]
        if "fieldRef" in source:
            values[item["name"]] = f"{obj['metadata']['name']}-5d8f7c9b4-x2k4q"
            continue
        ref = source["secretKeyRef"]
        if ref["name"] in secrets:
            if ref["key"] in secrets[ref["name"]]:
                values[item["name"]] = secrets[ref["name"]][ref["key"]]
        elif not ref.get("optional", False):
            # A Secret created out of band; optional ones are taken as absent.
            values[item["name"]] = SECRET_PLACEHOLDERS[ref["key"]]
    return values


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_manifest_values_are_valid_settings(
    overlay: str, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = named(overlay, "Deployment", f"herald-{service}")
    settings = _load(SERVICE_SETTINGS[service], _pod_values(overlay, deployment), monkeypatch)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (port,) = container["ports"]
    listens = settings.web_port if service == "inserter" else settings.port
    assert listens == port["containerPort"]
