"""Three Apache Kafka nodes on loopback, each broker and controller (KRaft combined mode).

The jars are the ones deploy/local/stack.sh resolves with Maven (`stack.sh kafka-class`
resolves them into the stack's home when missing), so the cluster runs the same Kafka as
the single-broker stack. Each node has three listeners:

- INTERNAL: between the brokers, and for the tests' own clients (never faulted);
- EXTERNAL: what Herald's services use. It is bound on one port and advertised on
  another, where a fault proxy forwards to it, so every connection a client opens after
  the bootstrap (to whichever broker leads a partition) goes through the proxy too;
- CONTROLLER: the three-voter quorum.

Replication factor 3 and min.insync.replicas=2 for every topic, the internal ones
included (consumer offsets, transaction state).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from herald_common.kafka import connection_options
from herald_common.settings import KafkaSettings
from tests.support.topic_reader import describe_topic

REPO = Path(__file__).resolve().parents[2]
STACK_SCRIPT = REPO / "deploy" / "local" / "stack.sh"
KAFKA_CONF_DIR = REPO / "deploy" / "local" / "kafka"
HOST = "127.0.0.1"
NODES = 3
MIN_INSYNC_REPLICAS = 2
HEAP = ["-Xms256m", "-Xmx512m"]


@dataclass
class Node:
    node_id: int
    internal_port: int
    external_port: int  # bound; the proxy forwards to it
    advertised_port: int  # the proxy's, what Herald's clients are told
    controller_port: int
    home: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def quorum_leader(self) -> int | None:
        """The active controller this node last knew of, from its quorum-state file."""
        path = self.data / "__cluster_metadata-0" / "quorum-state"
        try:
            leader = json.loads(path.read_text()).get("leaderId", -1)
        except (OSError, ValueError):
            return None
        return int(leader) if leader >= 0 else None


@dataclass
class KafkaCluster:
    home: Path
    stack_home: Path  # the stack.sh home whose resolved jars the nodes run
    maven_repo: Path
    nodes: list[Node] = field(default_factory=list)

    @classmethod
    def on_ports(
        cls, home: Path, stack_home: Path, maven_repo: Path, ports: list[int]
    ) -> KafkaCluster:
        """`ports`: NODES each of internal, external, advertised and controller ports."""
        cluster = cls(home, stack_home, maven_repo)
        for n in range(NODES):
            internal, external, advertised, controller = ports[4 * n : 4 * n + 4]
            cluster.nodes.append(
                Node(n + 1, internal, external, advertised, controller, home / f"node-{n + 1}")
            )
        return cluster

    @property
    def bootstrap(self) -> str:
        """The INTERNAL listeners: the tests' own clients, never through a proxy."""
        return ",".join(f"{HOST}:{node.internal_port}" for node in self.nodes)

    @property
    def external_bootstrap(self) -> str:
        """What Herald's services are given: the advertised (proxied) EXTERNAL listeners."""
        return ",".join(f"{HOST}:{node.advertised_port}" for node in self.nodes)

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(bootstrap=self.bootstrap)

    def node(self, node_id: int) -> Node:
        return next(node for node in self.nodes if node.node_id == node_id)

    # ------------------------------------------------------------ setup ---

    def _stack(self, *args: str) -> str:
        return subprocess.run(
            [str(STACK_SCRIPT), *args],
            check=True,
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "HERALD_HOME": str(self.stack_home),
                "HERALD_MAVEN_REPO": str(self.maven_repo),
            },
        ).stdout.strip()

    def _libs(self) -> Path:
        return self.stack_home / "kafka" / "libs"

    def _write_properties(self, node: Node) -> None:
        voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in self.nodes)
        node.data.mkdir(parents=True, exist_ok=True)
        node.properties.write_text(
            f"""# Written by tests/support/kafka_cluster.py
process.roles=broker,controller
node.id={node.node_id}
controller.quorum.voters={voters}
listeners=INTERNAL://{HOST}:{node.internal_port},EXTERNAL://{HOST}:{node.external_port},CONTROLLER://{HOST}:{node.controller_port}
advertised.listeners=INTERNAL://{HOST}:{node.internal_port},EXTERNAL://{HOST}:{node.advertised_port}
listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
log.dirs={node.data}
num.partitions=1
default.replication.factor={NODES}
min.insync.replicas={MIN_INSYNC_REPLICAS}
offsets.topic.replication.factor={NODES}
transaction.state.log.replication.factor={NODES}
transaction.state.log.min.isr={MIN_INSYNC_REPLICAS}
share.coordinator.state.topic.replication.factor={NODES}
share.coordinator.state.topic.min.isr={MIN_INSYNC_REPLICAS}
unclean.leader.election.enable=false
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
"""
        )

    def _format(self, node: Node, cluster_id: str) -> None:
        if (node.data / "meta.properties").exists():
            return
        subprocess.run(
            [
                "java",
                "-Xmx256m",
                f"-Dlog4j2.configurationFile={KAFKA_CONF_DIR / 'tools-log4j2.properties'}",
                "-cp",
                f"{self._libs()}/*",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(node.properties),
            ],
            check=True,
            capture_output=True,
        )

    def prepare(self) -> None:
        """Jars resolved, properties written, storage formatted (once per cluster id)."""
        self.home.mkdir(parents=True, exist_ok=True)
        id_file = self.home / "cluster.id"
        ports_file = self.home / "ports"
        ports = " ".join(
            f"{n.internal_port},{n.external_port},{n.controller_port}" for n in self.nodes
        )
        # Storage remembers its voters' ports: formatted for others, it is formatted afresh.
        if ports_file.exists() and ports_file.read_text() != ports:
            subprocess.run(["rm", "-rf", *(str(n.home) for n in self.nodes)], check=True)
            id_file.unlink(missing_ok=True)
        if not id_file.exists():
            uuid = self._stack("kafka-class", "kafka.tools.StorageTool", "random-uuid")
            id_file.write_text(uuid.splitlines()[-1])
        ports_file.write_text(ports)
        for node in self.nodes:
            self._write_properties(node)
            self._format(node, id_file.read_text().strip())

    # ------------------------------------------------------- processes ---

    def start_node(self, node: Node) -> None:
        if node.running:
            return
        logs = node.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = (logs / "kafka.out").open("ab")
        node.process = subprocess.Popen(
            [
                "java",
                *HEAP,
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:+ExitOnOutOfMemoryError",
                "-Djava.awt.headless=true",
                f"-Dkafka.logs.dir={logs}",
                f"-Dlog4j2.configurationFile={KAFKA_CONF_DIR / 'log4j2.properties'}",
                "-cp",
                f"{self._libs()}/*",
                "kafka.Kafka",
                str(node.properties),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()

    def start(self) -> None:
        self.prepare()
        for node in self.nodes:
            self.start_node(node)
        self.wait_ready(NODES)

    def kill_node(self, node: Node) -> None:
        """SIGKILL: no controlled shutdown, leadership moves only when its session expires."""
        self._signal(node, signal.SIGKILL, timeout=30)

    def stop_node(self, node: Node) -> None:
        """SIGTERM: a controlled shutdown, leadership moved away before the node leaves."""
        self._signal(node, signal.SIGTERM, timeout=90)

    def _signal(self, node: Node, sig: int, timeout: float) -> None:
        if not node.running or node.process is None:
            return
        node.process.send_signal(sig)
        try:
            node.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(timeout=30)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            self._signal(node, signal.SIGKILL, timeout=60)

    def active_controller(self, other_than: int | None = None) -> int:
        """The quorum's leader, as the running nodes agree on it (once they agree on one
        other than `other_than`: a killed leader stays in the files until an election)."""
        deadline = time.monotonic() + 60
        while True:
            seen = {node.quorum_leader() for node in self.nodes if node.running}
            if len(seen) == 1 and None not in seen and other_than not in seen:
                leader = seen.pop()
                assert leader is not None
                return leader
            assert time.monotonic() < deadline, f"no agreed active controller: {seen}"
            time.sleep(0.2)

    # -------------------------------------------------------- readiness ---

    def wait_ready(self, brokers: int, timeout: float = 180) -> float:
        """Waits until `brokers` brokers are registered and answer; returns the seconds."""
        return asyncio.run(self.registered(brokers, timeout))

    async def _listening(self) -> bool:
        running = [node for node in self.nodes if node.running]
        return all([await _connects(node.internal_port) for node in running])

    async def registered(self, brokers: int, timeout: float = 180) -> float:
        started = time.monotonic()
        while True:
            for node in self.nodes:
                # Killed or stopped by a test (the JVM exits 143 after SIGTERM's shutdown).
                if node.process is not None and node.process.poll() not in (None, -9, 143):
                    log = node.home / "logs" / "kafka.out"
                    raise RuntimeError(f"Kafka node {node.node_id} exited; see {log}")
            with contextlib.suppress(KafkaError, OSError):  # not up yet: wait
                # Registered with the controller is not yet serving: every running node's
                # listener must answer too, or a client's first request to it fails.
                if len(await broker_ids(self.kafka)) >= brokers and await self._listening():
                    return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{brokers} Kafka brokers not registered in {timeout:.0f}s")
            await asyncio.sleep(0.5)


async def _connects(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    return True


async def broker_ids(kafka: KafkaSettings) -> set[int]:
    quick = kafka.model_copy(update={"request_timeout_ms": 5000})
    admin = AIOKafkaAdminClient(**connection_options(quick), client_id="reliability-cluster")
    await admin.start()
    try:
        described = await admin.describe_cluster()
    finally:
        await admin.close()
    return {int(broker["node_id"]) for broker in described["brokers"]}


async def partition_leaders(kafka: KafkaSettings, topic: str) -> dict[int, dict[str, object]]:
    """Each partition of `topic`: its leader, replicas and in-sync replicas."""
    described = await describe_topic(kafka, topic)
    return {
        int(p["partition"]): {
            "leader": int(p["leader"]),
            "replicas": list(p["replicas"]),
            "isr": list(p["isr"]),
        }
        for p in described["partitions"]
    }
