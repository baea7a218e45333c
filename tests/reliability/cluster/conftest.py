"""The fault matrix on a three-broker cluster, with Herald's traffic through Toxiproxy.

A session fixture starts three Kafka nodes (KRaft, each broker and controller, replication
factor 3, min.insync.replicas=2) under `$HERALD_HOME/reliability-cluster`, the reliability
stack's PostgreSQL (the single-broker suite's, `stack.sh start-postgres`: no broker of
that stack runs for these tests) and Toxiproxy. Herald's services reach Kafka and
PostgreSQL only through Toxiproxy's proxies (each broker advertises its proxy's port on
the listener the services use); the tests read and check through direct connections,
which no fault touches. See tests/reliability/README.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import HeraldEnv, isolated_env
from tests.reliability.conftest import (
    POSTGRES_PORT,
    RELIABILITY_HOME,
    FaultServices,
    service_processes,
)
from tests.support.kafka_cluster import NODES, KafkaCluster
from tests.support.stack import Infrastructure, LocalStack, default_home
from tests.support.toxiproxy import Toxiproxy, server_binary

CLUSTER_HOME = default_home() / "reliability-cluster"
MAVEN_REPO = Path(os.environ.get("HERALD_MAVEN_REPO", default_home() / "cache" / "m2"))


def _base_port() -> int:
    """The first of this clone's 14 ports: the same for one directory every time (the
    nodes' storage remembers its voters' ports), different between clones. Between 28000
    and 32000: above the single-broker suite's ports and below Linux's ephemeral range,
    where free_port() draws the services' ports."""
    if "HERALD_RELIABILITY_CLUSTER_PORT" in os.environ:
        return int(os.environ["HERALD_RELIABILITY_CLUSTER_PORT"])
    digest = hashlib.sha256(str(CLUSTER_HOME.resolve()).encode()).hexdigest()
    return 28_000 + 16 * (int(digest, 16) % 250)


BASE_PORT = _base_port()
NODE_PORTS = [BASE_PORT + n for n in range(4 * NODES)]
POSTGRES_PROXY_PORT = BASE_PORT + 4 * NODES
TOXIPROXY_API_PORT = BASE_PORT + 4 * NODES + 1
KAFKA_PROXIES = [f"kafka-{n + 1}" for n in range(NODES)]
POSTGRES_PROXY = "postgres"


@dataclass(frozen=True)
class ClusterStack:
    cluster: KafkaCluster
    postgres: LocalStack
    toxiproxy: Toxiproxy

    def close(self) -> None:
        """Nodes and proxy stopped (PostgreSQL is reliability_postgres's to stop)."""
        self.cluster.stop()
        self.toxiproxy.stop()

    def restore(self) -> None:
        """Every node running and registered, every proxy enabled without toxics."""
        self.toxiproxy.reset()
        for node in self.cluster.nodes:
            self.cluster.start_node(node)
        self.cluster.wait_ready(NODES)


@pytest.fixture(scope="session")
def cluster_stack(
    reliability_postgres: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClusterStack]:
    postgres = reliability_postgres
    cluster = KafkaCluster.on_ports(CLUSTER_HOME, RELIABILITY_HOME, MAVEN_REPO, NODE_PORTS)
    toxiproxy = Toxiproxy(
        server_binary(default_home()),
        TOXIPROXY_API_PORT,
        tmp_path_factory.mktemp("toxiproxy") / "toxiproxy.log",
    ).start()
    stack = ClusterStack(cluster, postgres, toxiproxy)
    try:
        for name, node in zip(KAFKA_PROXIES, cluster.nodes, strict=True):
            toxiproxy.proxy(name, node.advertised_port, node.external_port)
        toxiproxy.proxy(POSTGRES_PROXY, POSTGRES_PROXY_PORT, POSTGRES_PORT)
        cluster.start()
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="session")
def cluster_env(
    cluster_stack: ClusterStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeraldEnv]:
    """The tests' view: direct connections to the brokers' INTERNAL listeners and to
    PostgreSQL, Herald's topics with replication factor 3."""
    database = f"postgresql://herald@127.0.0.1:{POSTGRES_PORT}/herald"
    infra = Infrastructure(cluster_stack.cluster.bootstrap, database)
    logs = tmp_path_factory.mktemp("reliability-cluster-logs")
    with isolated_env(infra, logs, replication_factor=NODES) as env:
        yield env


def proxied(env: HeraldEnv, cluster: KafkaCluster) -> HeraldEnv:
    """The services' view of `env`: Kafka and PostgreSQL through Toxiproxy."""
    url = urlsplit(env.database_url)
    netloc = f"{url.username}@127.0.0.1:{POSTGRES_PROXY_PORT}"
    return dataclasses.replace(
        env,
        infra=Infrastructure(cluster.external_bootstrap, env.infra.database_url),
        database_url=urlunsplit(url._replace(netloc=netloc)),
    )


@pytest.fixture(scope="session")
def cluster_services(
    cluster_env: HeraldEnv, cluster_stack: ClusterStack
) -> Iterator[FaultServices]:
    with service_processes(proxied(cluster_env, cluster_stack.cluster)) as services:
        yield services


@pytest.fixture(autouse=True)
def _cluster_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test every node runs, no toxic is left, and the services run again."""
    yield
    if "cluster_stack" in request.fixturenames:
        request.getfixturevalue("cluster_stack").restore()
    if "cluster_services" in request.fixturenames:
        request.getfixturevalue("cluster_services").ensure_running()
