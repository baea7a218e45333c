"""Every setting a service reads is set in docker-compose.yml and in every overlay.

The names are enumerated from the pydantic-settings classes themselves, so a new setting
fails here until the deployment files set it, or it is added below with a reason.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

import pytest

from herald_common.settings import DatabaseSettings, KafkaSettings, TopicSettings
from tests.support import compose
from tests.support.deploy import OVERLAYS, SERVICE_SETTINGS, env_names, named, objects

# Settings that may be left to their defaults, and why.
DEFAULTS_ARE_FINE = {
    # Tuning with defaults chosen for production.
    "HERALD_KAFKA_LINGER_MS": "5 ms, as Kafka 4's own producer default",
    "HERALD_KAFKA_MAX_BATCH_BYTES": "512 KiB batches suit the per-employee events",
    "HERALD_KAFKA_REQUEST_TIMEOUT_MS": "aiokafka's 30 s",
    "HERALD_INSERTER_MAX_ATTEMPTS": "retry policy of the worker",
    "HERALD_INSERTER_RETRY_INITIAL_SECONDS": "retry policy of the worker",
    "HERALD_INSERTER_RETRY_MAX_SECONDS": "retry policy of the worker",
    "HERALD_INSERTER_WORKER_ID": "the host name: unique per container or pod, kept on restart",
    "HERALD_INSERTER_SESSION_TIMEOUT_SECONDS": "30 s before a vanished worker's partitions move",
    "HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS": "60 s covers a 100,000-employee publish",
    "HERALD_INSERTER_CRASH_AFTER_COMMIT": "a test hook of tests/reliability, off everywhere else",
    "HERALD_NOTIFIER_SUBSCRIBER_QUEUE_SIZE": "per-stream buffer before a slow reader is cut off",
    "HERALD_NOTIFIER_PING_SECONDS": "15 s, what proxies need",
    "HERALD_NOTIFIER_RETRY_MS": "the reconnect delay clients are told",
    "HERALD_NOTIFIER_SEND_TIMEOUT_SECONDS": "when a stuck socket counts as gone",
    "HERALD_NOTIFIER_REPLAY_PAGE_SIZE": "rows per replay query",
    # Only a secured Kafka needs these; the strimzi overlay must set them (STRIMZI below).
    "HERALD_KAFKA_SASL_MECHANISM": "no SASL on a plaintext cluster",
    "HERALD_KAFKA_SASL_USERNAME": "no SASL on a plaintext cluster",
    "HERALD_KAFKA_SASL_PASSWORD": "no SASL on a plaintext cluster",
    "HERALD_KAFKA_SSL_CAFILE": "no TLS on a plaintext cluster",
}
# Compose leaves the replica id unset on purpose: each replica's hostname is unique.
COMPOSE_DEFAULTS_ARE_FINE = {"HERALD_NOTIFIER_REPLICA_ID"}
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
    services = compose.resolved({"HERALD_POSTGRES_PASSWORD": "x"})["services"]
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
