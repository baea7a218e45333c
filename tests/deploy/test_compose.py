"""docker-compose.yml: valid by the Compose specification, pinned, healthy-before-used.

The Compose specification's JSON schema comes vendored in the check-jsonschema package
(only its data file is read; the package itself is never imported).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import smtplib
import subprocess
import sys
import time
from typing import Any

import jsonschema
import pytest

from herald_common.settings import TopicSettings
from herald_mailer.settings import MailerSettings
from herald_notifier.settings import NotifierSettings
from tests.support.compose import (
    REQUIRED_ENV,
    InterpolationError,
    environment,
    interpolate,
    raw,
    resolved,
    strings,
    variables,
)
from tests.support.deploy import REPO, SERVICE_PORTS, SERVICE_SETTINGS, env_names
from tests.support.dockerfile import image_env
from tests.support.processes import free_port

# What a user must export; everything else has a default in the file.
REQUIRED = {"HERALD_POSTGRES_PASSWORD", "HERALD_AUTH_HS256_SECRET", "HERALD_CHANNELS_APP_SECRET"}
ENV = REQUIRED_ENV
ONE_SHOT = {"setup", "seed"}
HERALD_SERVICES = set(SERVICE_SETTINGS)
# The services that keep data: they wait for the setup step (migrations, topics).
STATEFUL = {s for s, cls in SERVICE_SETTINGS.items() if "HERALD_DATABASE_URL" in env_names(cls)}
EXACT_TAG = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+[\w.-]*$")
# PostgreSQL numbers its releases major.minor: 17.6 is one exact release.
EXACT_POSTGRES_TAG = re.compile(r"^postgres:\d+\.\d+-[a-z]+$")


def _schema() -> dict[str, Any]:
    path = importlib.metadata.distribution("check-jsonschema").locate_file(
        "check_jsonschema/builtin_schemas/vendor/compose-spec.json"
    )
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def _services() -> dict[str, Any]:
    services: dict[str, Any] = resolved(ENV)["services"]
    return services


def test_the_file_is_valid_by_the_compose_specification() -> None:
    schema = _schema()
    assert schema["title"] == "Compose Specification"
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(raw())]
    assert errors == []
    # The same file, interpolated, must stay valid (ports, durations, numbers as strings).
    assert [e.message for e in validator.iter_errors(resolved(ENV))] == []


def test_the_schema_rejects_what_compose_rejects() -> None:
    schema = _schema()
    broken = {"services": {"x": {"image": "a:1.0.0", "depends_on": {"y": {"condition": "up"}}}}}
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))


def test_every_interpolation_is_well_formed_and_required_settings_say_so() -> None:
    values = strings(raw())
    for value in values:
        interpolate(value, ENV)  # raises on anything Compose would reject
    used = [variable for value in values for variable in variables(value)]
    for name in REQUIRED:
        operators = {op for n, op in used if n == name}
        assert operators == {":?"}, f"{name} must always be ${{{name}:?...}}"
    assert set(ENV) == REQUIRED
    for name in REQUIRED:
        with pytest.raises(InterpolationError, match=name):
            resolved({n: v for n, v in ENV.items() if n != name})
    # Every other variable has a default, so nothing else is silently empty.
    for name, op in used:
        assert name in REQUIRED or op == ":-", f"${{{name}}} has no default"


def test_images_are_pinned_and_never_latest() -> None:
    for name, service in _services().items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"{name} has neither image nor build"
            continue
        exact = EXACT_POSTGRES_TAG if image.startswith("postgres:") else EXACT_TAG
        assert exact.match(image), f"{name}: {image!r} is not an exact version"
        assert not image.endswith(":latest")


def test_herald_services_build_their_own_image_from_the_dockerfile() -> None:
    services = _services()
    for name in HERALD_SERVICES:
        # The repository's one Dockerfile (Compose's default), the service as its argument.
        assert services[name]["build"] == {"context": ".", "args": {"SERVICE": name}}
    for name in ONE_SHOT:
        assert services[name]["build"] == {"context": ".", "args": {"SERVICE": "allocation"}}
    assert (REPO / "Dockerfile").is_file()


def test_long_running_services_have_health_checks() -> None:
    for name, service in _services().items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no"
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no health check"
        assert service["restart"] == "unless-stopped"


def test_dependencies_wait_for_health_or_completion() -> None:
    services = _services()
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            condition = spec["condition"]
            if dependency in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, dependency)
            else:
                assert condition == "service_healthy", (name, dependency)
                assert "healthcheck" in services[dependency]
    assert set(services["setup"]["depends_on"]) == {"kafka", "postgres"}
    for name in STATEFUL:
        assert set(services[name]["depends_on"]) == {"setup"}
    # The gateway opens once the services it forwards to are healthy.
    assert set(services["gateway"]["depends_on"]) == {"allocation", "notifier", "mailer"}


def test_setup_migrates_and_creates_topics() -> None:
    command = " ".join(_services()["setup"]["entrypoint"])
    assert "herald db migrate" in command
    assert "herald kafka create-topics" in command


def test_the_notifier_runs_two_replicas_each_with_its_own_identity() -> None:
    notifier = _services()["notifier"]
    assert notifier["deploy"]["replicas"] == 2
    # A fixed name or hostname would give both replicas the same identity.
    assert "container_name" not in notifier
    assert "hostname" not in notifier
    assert "HERALD_NOTIFIER_REPLICA_ID" not in environment(notifier)
    field = NotifierSettings.model_fields["replica_id"]
    assert field.default_factory is not None
    assert field.default_factory.__name__ == "gethostname"
    # Each replica needs a host port of its own.
    (port,) = notifier["ports"]
    assert re.match(r"127\.0\.0\.1:\d+-\d+:8002$", port)


def test_the_notifier_is_given_time_to_drain() -> None:
    notifier = _services()["notifier"]
    grace = float(environment(notifier)["HERALD_NOTIFIER_SHUTDOWN_GRACE_SECONDS"])
    stop = notifier["stop_grace_period"]
    assert stop.endswith("s")
    # uvicorn takes up to grace + 2 s, and the lifespan a few more.
    assert float(stop.removesuffix("s")) >= grace + 5


def test_kafka_is_a_single_kraft_node_fit_for_transactions() -> None:
    kafka = _services()["kafka"]
    assert kafka["image"].startswith("apache/kafka:4.")
    env = environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for setting in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
    ):
        assert env[setting] == "1"
    bootstrap = environment(_services()["allocation"])["HERALD_KAFKA_BOOTSTRAP"]
    assert f"PLAINTEXT://{bootstrap}" in env["KAFKA_ADVERTISED_LISTENERS"]


def test_published_ports_listen_on_loopback_only() -> None:
    for name, service in _services().items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port}"


def test_the_services_reach_postgres_with_the_password_postgres_was_given() -> None:
    services = _services()
    password = environment(services["postgres"])["POSTGRES_PASSWORD"]
    for name in (*STATEFUL, *ONE_SHOT):
        url = environment(services[name])["HERALD_DATABASE_URL"]
        assert url == f"postgresql://herald:{password}@postgres:5432/herald"


def test_topic_partitions_are_the_designed_ones() -> None:
    for name in (*STATEFUL, "setup"):
        env = environment(_services()[name])
        for field, info in TopicSettings.model_fields.items():
            if field.endswith("_partitions"):
                assert env[f"HERALD_TOPICS_{field.upper()}"] == str(info.default), (name, field)


def test_the_mailer_sends_to_the_sink_unless_told_otherwise() -> None:
    services = _services()
    env = environment(services["mailer"])
    assert env["HERALD_MAILER_SMTP_HOST"] == "smtp-sink"
    sink = services["smtp-sink"]
    command = sink["entrypoint"]
    assert command[-1] == f"0.0.0.0:{env['HERALD_MAILER_SMTP_PORT']}"
    assert f"{env['HERALD_MAILER_SMTP_PORT']})" in " ".join(sink["healthcheck"]["test"])
    # Each mailer replica's Kafka identity is its hostname, as for the notifier.
    field = MailerSettings.model_fields["replica_id"]
    assert field.default_factory is not None
    assert field.default_factory.__name__ == "gethostname"
    assert "HERALD_MAILER_REPLICA_ID" not in env
    # A relay's credentials pass through from the shell, and are otherwise left unset.
    assert raw()["services"]["mailer"]["environment"]["HERALD_MAILER_SMTP_USERNAME"] is None
    assert raw()["services"]["mailer"]["environment"]["HERALD_MAILER_SMTP_PASSWORD"] is None


def test_the_gateway_fronts_every_service_on_one_origin() -> None:
    services = _services()
    env = environment(services["gateway"])
    for upstream in ("allocation", "notifier", "mailer"):
        url = env[f"HERALD_GATEWAY_{upstream.upper()}_URL"]
        assert url == f"http://{upstream}:{SERVICE_PORTS[upstream]}"
    # The console the image builds is where the gateway looks for it.
    assert image_env("gateway")["HERALD_GATEWAY_STATIC_DIR"] == env["HERALD_GATEWAY_STATIC_DIR"]
    (port,) = services["gateway"]["ports"]
    assert port == "127.0.0.1:8000:8000"
    # Links in the emails lead to the gateway's origin.
    mailer = environment(services["mailer"])
    assert mailer["HERALD_MAILER_LINK_BASE_URL"] == "http://127.0.0.1:8000"


def test_dev_mode_is_on_for_trying_herald_out() -> None:
    services = _services()
    for name in ("allocation", "notifier", "mailer"):
        env = environment(services[name])
        assert env["HERALD_AUTH_DEV_MODE"] == "true"
        assert env["HERALD_AUTH_HS256_SECRET"] == ENV["HERALD_AUTH_HS256_SECRET"]


def test_the_sink_accepts_an_email_and_prints_it() -> None:
    # The sink's own command, on a free port, with this checkout's Python (the images' 3.11).
    command = _services()["smtp-sink"]["entrypoint"]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, *command[1:-1], f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the sink did not start"
                time.sleep(0.1)
        with client:
            client.sendmail(
                "herald@localhost",
                ["manager@example.com"],
                "Subject: Winter bonus\r\n\r\n3 people in your team received it.\r\n",
            )
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "Subject: Winter bonus" in output
    assert "3 people in your team received it." in output
