"""Which infrastructure the tests use: environment first, then testcontainers, then the stack."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from docker.errors import DockerException

from tests.support import stack

BOTH = {
    "HERALD_TEST_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
    "HERALD_TEST_DATABASE_URL": "postgresql://herald:pw@db.internal:15432/herald",
}


def _engine(answer: bool) -> Any:
    calls: list[None] = []

    def answers() -> bool:
        calls.append(None)
        return answer

    answers.calls = calls  # type: ignore[attr-defined]
    return answers


def test_named_endpoints_win_without_asking_docker() -> None:
    engine = _engine(True)
    assert stack.choose_path(BOTH, engine) == stack.ENVIRONMENT
    assert engine.calls == []


@pytest.mark.parametrize("env", [{}, {"HERALD_TEST_KAFKA_BOOTSTRAP": "k:9092"}])
def test_a_docker_engine_means_testcontainers(env: dict[str, str]) -> None:
    assert stack.choose_path(env, _engine(True)) == stack.TESTCONTAINERS


def test_no_engine_means_the_local_stack() -> None:
    assert stack.choose_path({}, _engine(False)) == stack.LOCAL_STACK


class _Client:
    def __init__(self, ping: Any) -> None:
        self._ping = ping
        self.closed = False

    def ping(self) -> bool:
        if isinstance(self._ping, Exception):
            raise self._ping
        return bool(self._ping)

    def close(self) -> None:
        self.closed = True


def test_engine_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_socket(**_: Any) -> None:
        raise DockerException("Error while fetching server API version")

    monkeypatch.setattr("tests.support.stack.docker.from_env", no_socket)
    assert stack.docker_engine_answers() is False

    for ping, expected in (
        (True, True),
        (DockerException("down"), False),
        (ConnectionError(), False),
    ):
        client = _Client(ping)
        monkeypatch.setattr(
            "tests.support.stack.docker.from_env", lambda client=client, **_: client
        )
        assert stack.docker_engine_answers() is expected
        assert client.closed


def test_the_header_names_the_path_without_the_password() -> None:
    header = stack.describe(stack.ENVIRONMENT, BOTH)
    assert header.startswith("infrastructure: environment")
    assert "db.internal:15432" in header
    assert "pw" not in header
    assert stack.KAFKA_IMAGE in stack.describe(stack.TESTCONTAINERS)
    assert "deploy/local/stack.sh" in stack.describe(stack.LOCAL_STACK)


class _Container:
    started: ClassVar[list[str]] = []
    stopped: ClassVar[list[str]] = []

    def __init__(self, image: str, **kwargs: Any) -> None:
        self.image = image
        self.kwargs = kwargs
        self.env: dict[str, str] = {}
        self.kraft = False

    def with_kraft(self) -> _Container:
        self.kraft = True
        return self

    def with_env(self, key: str, value: str) -> _Container:
        self.env[key] = value
        return self

    def start(self, timeout: int = 0) -> _Container:
        self.started.append(self.image)
        return self

    def stop(self) -> None:
        self.stopped.append(self.image)

    def get_bootstrap_server(self) -> str:
        return "localhost:32771"

    def get_connection_url(self) -> str:
        return "postgresql://herald:herald@localhost:32772/herald"


def test_containers_are_pinned_configured_and_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[_Container] = []

    def factory(image: str, **kwargs: Any) -> _Container:
        made.append(_Container(image, **kwargs))
        return made[-1]

    monkeypatch.setattr(stack, "KafkaContainer", factory)
    monkeypatch.setattr(stack, "PostgresContainer", factory)
    _Container.started, _Container.stopped = [], []

    with stack.infrastructure(stack.TESTCONTAINERS) as infra:
        assert infra == stack.Infrastructure(
            "localhost:32771", "postgresql://herald:herald@localhost:32772/herald"
        )
        assert _Container.stopped == []

    kafka, postgres = made
    assert kafka.image == stack.KAFKA_IMAGE
    assert kafka.kraft
    assert kafka.env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert kafka.env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert postgres.image == stack.POSTGRES_IMAGE
    # psycopg 3 takes plain postgresql:// URLs: no SQLAlchemy driver suffix.
    assert postgres.kwargs["driver"] is None
    for image in (stack.KAFKA_IMAGE, stack.POSTGRES_IMAGE):
        assert ":latest" not in image
    assert sorted(_Container.started) == sorted(_Container.stopped)


def test_containers_are_stopped_when_a_test_session_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack, "KafkaContainer", _Container)
    monkeypatch.setattr(stack, "PostgresContainer", _Container)
    _Container.started, _Container.stopped = [], []

    with pytest.raises(RuntimeError), stack.infrastructure(stack.TESTCONTAINERS):
        raise RuntimeError("session failed")

    assert sorted(_Container.stopped) == sorted([stack.KAFKA_IMAGE, stack.POSTGRES_IMAGE])


def test_named_endpoints_are_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BOTH.items():
        monkeypatch.setenv(key, value)
    with stack.infrastructure(stack.ENVIRONMENT) as infra:
        assert infra == stack.Infrastructure(*BOTH.values())
