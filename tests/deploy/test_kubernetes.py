"""deploy/k8s: every overlay renders with kustomize and every object is valid.

Built-in kinds are validated (strictly: unknown fields fail) against the Kubernetes
schemas bundled by kubernetes-validate, for the oldest and newest Kubernetes the
manifests support. Strimzi's kinds are not in those schemas; they are validated against
the schemas in tests/deploy/schemas, written from the Strimzi API reference.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from kubernetes_validate.utils import SchemaNotFoundError

from herald_common.catalogue import (
    ALLOCATION_COMPLETED_TOPIC,
    NOTIFICATION_PUSHED_TOPIC,
    VOUCHER_ALLOCATED_TOPIC,
    VOUCHER_REVOKED_TOPIC,
)
from herald_common.settings import TopicSettings
from herald_common.topics import topic_specs
from herald_gateway.domain.routes import MAILER_PATHS, NOTIFIER_PATHS, service_for
from herald_gateway.domain.stream_routing import STREAM_PATH
from herald_notifier.metrics import NotifierMetrics
from tests.support.deploy import (
    OVERLAYS,
    SERVICE_PORTS,
    SERVICE_SETTINGS,
    named,
    objects,
    rendered,
)
from tests.support.dockerfile import image_env

# preStop `sleep` handlers need 1.30; 1.37 is the newest schema set bundled.
KUBERNETES_VERSIONS = ("1.30", "1.37")
SCHEMAS = Path(__file__).parent / "schemas"
CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1", "KafkaTopic"): "strimzi-kafkatopic-v1.json",
    ("kafka.strimzi.io/v1", "KafkaUser"): "strimzi-kafkauser-v1.json",
}
WORKLOADS = {service: f"herald-{service}" for service in SERVICE_SETTINGS}
# The services that talk to Kafka, each as a KafkaUser of its own with Strimzi.
KAFKA_CLIENTS = {s: name for s, name in WORKLOADS.items() if s != "gateway"}
HERALD_IMAGES = re.compile(
    r"^(registry\.example\.com/)?herald/(allocation|inserter|notifier|mailer|gateway|channels):"
)
# The services with an API, which verify tokens.
AUTHENTICATING = ("allocation", "notifier", "mailer", "channels")


def _custom_schema(api_version: str, kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / CUSTOM_KINDS[(api_version, kind)]).read_text())
    return schema


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def _config(overlay: str) -> dict[str, str]:
    (config,) = [
        c
        for c in objects(overlay, "ConfigMap")
        if c["metadata"]["name"].startswith("herald-config")
    ]
    data: dict[str, str] = config["data"]
    return data


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid(overlay: str) -> None:
    validated: set[str] = set()
    for obj in rendered(overlay):
        key = (obj["apiVersion"], obj["kind"])
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if key in CUSTOM_KINDS:
            # Not a built-in kind: kubernetes-validate has no schema for it.
            schema = _custom_schema(*key)
            errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(obj)]
            assert errors == [], f"{overlay}: {name}: {errors}"
            validated.add(obj["kind"])
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{overlay}: {name} invalid for Kubernetes {version}: {error.message}")
            except SchemaNotFoundError:
                pytest.fail(f"{overlay}: no Kubernetes {version} schema for {key}")
        validated.add(obj["kind"])
    expected = {
        "Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service", "Job", "Ingress",
        "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler",
    }  # fmt: skip
    if overlay == "dev":
        expected |= {"Secret", "StatefulSet"}
    if overlay == "strimzi":
        expected |= {"KafkaTopic", "KafkaUser"}
    assert validated == expected


def test_the_validation_catches_a_mistake() -> None:
    deployment = json.loads(json.dumps(named("prod", "Deployment", "herald-notifier")))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = (
        "/"
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_the_strimzi_schemas_catch_mistakes() -> None:
    (user,) = [
        u for u in objects("strimzi", "KafkaUser") if u["metadata"]["name"] == "herald-notifier"
    ]
    broken = json.loads(json.dumps(user))
    broken["spec"]["authorization"]["acls"][0]["operation"] = "Read"  # v1beta2 spelling
    schema = _custom_schema("kafka.strimzi.io/v1", "KafkaUser")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))
    topic = json.loads(json.dumps(objects("strimzi", "KafkaTopic")[0]))
    topic["spec"]["partitions"] = 0
    schema = _custom_schema("kafka.strimzi.io/v1", "KafkaTopic")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(topic))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_pinned_and_one_version_throughout(overlay: str) -> None:
    tags = set()
    for obj in rendered(overlay):
        if obj["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        for container in _containers(obj):
            image = container["image"]
            name, _, tag = image.rpartition(":")
            assert name, image
            assert re.match(r"^\d+\.\d+(\.\d+)?[\w.-]*$", tag), image
            if HERALD_IMAGES.match(image):
                tags.add(tag)
    assert len(tags) == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", WORKLOADS)
def test_workloads_are_probed_limited_and_locked_down(overlay: str, service: str) -> None:
    deployment = named(overlay, "Deployment", WORKLOADS[service])
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port = SERVICE_PORTS[service]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    port_name = container["ports"][0]["name"]
    liveness = container["livenessProbe"]["httpGet"]
    readiness = container["readinessProbe"]["httpGet"]
    # Liveness is cheap; readiness checks the dependencies where the service has a check.
    assert liveness == {"path": "/healthz", "port": port_name}
    expected_ready = "/healthz" if service == "inserter" else "/readyz"
    assert readiness == {"path": expected_ready, "port": port_name}
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert "memory" in resources["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["serviceAccountName"] == WORKLOADS[service]
    assert named(overlay, "ServiceAccount", WORKLOADS[service])
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_their_pods(overlay: str) -> None:
    deployments = objects(overlay, "Deployment") + objects(overlay, "StatefulSet")
    for service in objects(overlay, "Service"):
        selector = service["spec"]["selector"]
        matches = [
            d for d in deployments
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]  # fmt: skip
        assert len(matches) == 1, service["metadata"]["name"]
        ports = {p["name"] for c in _containers(matches[0]) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_notifier_replicas_have_their_own_identity_and_drain(overlay: str) -> None:
    deployment = named(overlay, "Deployment", "herald-notifier")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = _env(container)
    assert env["HERALD_NOTIFIER_REPLICA_ID"]["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.name"}
    }
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = float(env["HERALD_NOTIFIER_SHUTDOWN_GRACE_SECONDS"]["value"])
    # preStop, then the drain grace, uvicorn's 2 s beyond it, and the lifespan's shutdown.
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + grace + 2 + 5
    assert pre_stop >= 5, "endpoints need a few seconds to drop the pod"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_notifier_has_a_disruption_budget_and_scales_on_open_streams(overlay: str) -> None:
    pdb = named(overlay, "PodDisruptionBudget", "herald-notifier")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "herald-notifier"}
    hpa = named(overlay, "HorizontalPodAutoscaler", "herald-notifier")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "herald-notifier",
    }  # fmt: skip
    (pods_metric,) = [m for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    metric = pods_metric["pods"]["metric"]["name"]
    assert metric == NotifierMetrics().open_streams._name
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300


def _ingress_backend(overlay: str, path: str) -> str:
    """The Service an ingress controller picks for a path: Kubernetes' matching rules.

    Exact matches the path itself; Prefix matches it and everything below it, segment by
    segment; the longest match wins, Exact before Prefix.
    """
    candidates = []
    for ingress in objects(overlay, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                p, kind = entry["path"], entry["pathType"]
                if kind == "Exact":
                    matches = path == p
                else:
                    assert kind == "Prefix", kind
                    matches = p == "/" or path == p or path.startswith(p.rstrip("/") + "/")
                if matches:
                    rank = (len(p), kind == "Exact")
                    candidates.append((rank, entry["backend"]["service"]["name"]))
    assert candidates, f"{overlay}: nothing serves {path}"
    return max(candidates)[1]


ROUTED_PATHS = (
    *NOTIFIER_PATHS,
    *MAILER_PATHS,
    "/v1/preferences/email/herald.allocation.summary",
    "/v1",
    "/v1/allocations",
    "/v1/allocations:preview",
    "/v1/allocations/0b9f4a3e-6f5d-4c1e-9a51-2d8f3c7e4b10",
    "/v1/notifications",
    "/v1/notifications/unread-count",
    "/v1/employees:import",
    "/v1/dev/tokens",
    # Near misses: they belong to the allocation API, not to the notifier or the mailer.
    "/v1/streams",
    "/v1/sessions",
    "/v1/preferencesx",
    "/",
    "/inbox",
    "/assets/index-DfH_E6oI.js",
)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_every_path_as_the_gateway_does(overlay: str) -> None:
    hosts = {
        rule["host"] for ingress in objects(overlay, "Ingress") for rule in ingress["spec"]["rules"]
    }
    assert len(hosts) == 1, "the console and every API share one origin"
    for path in ROUTED_PATHS:
        # Streams go through the gateway, which sends each to the notifier share of its
        # department (decision 0078); the gateway's own table names the notifier for them.
        expected = "gateway" if path == STREAM_PATH else service_for(path) or "gateway"
        assert _ingress_backend(overlay, path) == f"herald-{expected}", path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_to_the_notifier_is_unbuffered_and_long_lived(overlay: str) -> None:
    for ingress in objects(overlay, "Ingress"):
        backends = {
            entry["backend"]["service"]["name"]
            for rule in ingress["spec"]["rules"]
            for entry in rule["http"]["paths"]
        }
        if "herald-notifier" not in backends:
            continue
        # Streams only: an Ingress's annotations apply to every path it holds.
        assert backends == {"herald-notifier"}, ingress["metadata"]["name"]
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
        assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
        assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    stream = named(overlay, "Ingress", "herald-stream")
    paths = {entry["path"] for rule in stream["spec"]["rules"] for entry in rule["http"]["paths"]}
    assert paths == set(NOTIFIER_PATHS) - {STREAM_PATH}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_streams_reach_the_gateway_unbuffered_and_long_lived(overlay: str) -> None:
    routed = named(overlay, "Ingress", "herald-stream-routed")
    entries = [entry for rule in routed["spec"]["rules"] for entry in rule["http"]["paths"]]
    assert [(e["path"], e["backend"]["service"]["name"]) for e in entries] == [
        (STREAM_PATH, "herald-gateway")
    ]
    annotations = routed["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_sends_streams_to_notifier_shares_that_read_their_halves(
    overlay: str,
) -> None:
    (container,) = named(overlay, "Deployment", "herald-gateway")["spec"]["template"]["spec"][
        "containers"
    ]
    urls = json.loads(_env(container)["HERALD_GATEWAY_NOTIFIER_SHARE_URLS"]["value"])
    assert urls == [f"http://herald-notifier-share-{i}" for i in range(len(urls))]
    assert len(urls) == 2
    for i in range(len(urls)):
        name = f"herald-notifier-share-{i}"
        share = named(overlay, "Deployment", name)
        (notifier,) = share["spec"]["template"]["spec"]["containers"]
        assert _env(notifier)["HERALD_NOTIFIER_PARTITION_SHARE"]["value"] == f"{i}/{len(urls)}"
        # Its Service selects its pods only, and its pods are notifier pods for the network
        # policies and the disruption budget.
        selector = named(overlay, "Service", name)["spec"]["selector"]
        assert selector == share["spec"]["selector"]["matchLabels"]
        labels = share["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "herald-notifier"
        hpa = named(overlay, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
    (everything,) = named(overlay, "Deployment", "herald-notifier")["spec"]["template"]["spec"][
        "containers"
    ]
    assert _env(everything)["HERALD_NOTIFIER_PARTITION_SHARE"]["value"] == "all"
    # A share refuses to start on a per-employee topic whose partitions do not divide.
    config = _config(overlay)
    for topic in (VOUCHER_ALLOCATED_TOPIC, NOTIFICATION_PUSHED_TOPIC, VOUCHER_REVOKED_TOPIC):
        assert int(config[f"HERALD_TOPICS_{topic.setting.upper()}"]) % len(urls) == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_body_limit_lets_the_largest_import_through(overlay: str) -> None:
    api = named(overlay, "Ingress", "herald-api")
    body = api["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    (container,) = named(overlay, "Deployment", "herald-allocation")["spec"]["template"]["spec"][
        "containers"
    ]
    max_import = int(_env(container)["HERALD_ALLOCATION_MAX_IMPORT_BYTES"]["value"])
    assert body == f"{max_import // 2**20}m"
    # Only the allocation API takes imports; the other Ingresses keep the default limit.
    for ingress in objects(overlay, "Ingress"):
        if ingress["metadata"]["name"] != "herald-api":
            annotations = ingress["metadata"].get("annotations", {})
            assert "nginx.ingress.kubernetes.io/proxy-body-size" not in annotations


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_forwards_to_the_services_in_the_cluster(overlay: str) -> None:
    (container,) = named(overlay, "Deployment", "herald-gateway")["spec"]["template"]["spec"][
        "containers"
    ]
    env = _env(container)
    for upstream in ("allocation", "notifier", "mailer"):
        service = named(overlay, "Service", f"herald-{upstream}")
        (port,) = service["spec"]["ports"]
        url = env[f"HERALD_GATEWAY_{upstream.upper()}_URL"]["value"]
        expected = f"http://herald-{upstream}" + ("" if port["port"] == 80 else f":{port['port']}")
        assert url == expected
    # The console the image builds is where the gateway looks for it.
    static_dir = env["HERALD_GATEWAY_STATIC_DIR"]["value"]
    assert image_env("gateway")["HERALD_GATEWAY_STATIC_DIR"] == static_dir


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_open_the_service_ports(overlay: str) -> None:
    deny = named(overlay, "NetworkPolicy", "herald-default-deny")
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]
    selector = deny["spec"]["podSelector"]["matchLabels"]
    for workload in (*objects(overlay, "Deployment"), *objects(overlay, "Job")):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), workload["metadata"]["name"]
    for service, port in SERVICE_PORTS.items():
        policy = named(overlay, "NetworkPolicy", f"herald-{service}-ingress")
        allowed = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
        assert allowed == {port}
    # The gateway reaches the services it forwards to, on their ports, and no store.
    egress = named(overlay, "NetworkPolicy", "herald-gateway-egress")["spec"]["egress"]
    reached = {
        (peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], p["port"])
        for rule in egress
        for peer in rule.get("to", [])
        for p in rule["ports"]
    }
    assert reached == {
        (f"herald-{s}", SERVICE_PORTS[s]) for s in ("allocation", "notifier", "mailer")
    }
    stores = named(overlay, "NetworkPolicy", "herald-egress")["spec"]["podSelector"]
    assert stores["matchExpressions"] == [
        {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["herald-gateway"]}
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_as_a_job(overlay: str) -> None:
    job = named(overlay, "Job", "herald-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["herald", "db", "migrate"]
    assert "HERALD_DATABASE_URL" in _env(container)
    topics_jobs = [
        j for j in objects(overlay, "Job") if j["metadata"]["name"] == "herald-create-topics"
    ]
    # With Strimzi, topics are KafkaTopic resources instead.
    assert len(topics_jobs) == (0 if overlay == "strimzi" else 1)


def test_no_real_secret_is_committed() -> None:
    secrets = objects("dev", "Secret")
    names = {s["metadata"]["name"].rsplit("-", 1)[0] for s in secrets}
    assert names == {"herald-database", "herald-auth"}
    for secret in secrets:
        values = {key: base64.b64decode(v).decode() for key, v in secret["data"].items()}
        assert all("dev-only-not-a-secret" in value for value in values.values())
    # Long enough for HS256 (RFC 7518: a key at least as long as the hash, 32 bytes).
    (auth,) = [s for s in secrets if s["metadata"]["name"].startswith("herald-auth")]
    assert len(base64.b64decode(auth["data"]["hs256-secret"])) >= 32
    for overlay in ("prod", "strimzi"):
        assert objects(overlay, "Secret") == [], "production secrets are created out of band"


@pytest.mark.parametrize("overlay", ["prod", "strimzi"])
def test_production_reads_only_the_documented_secrets(overlay: str) -> None:
    expected = {"herald-database", "herald-auth", "herald-smtp"}
    if overlay == "strimzi":
        expected |= set(KAFKA_CLIENTS.values()) | {"herald-kafka-cluster-ca-cert"}
    referenced = set()
    for obj in (*objects(overlay, "Deployment"), *objects(overlay, "Job")):
        for container in _containers(obj):
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    referenced.add(ref["name"])
        for volume in obj["spec"]["template"]["spec"].get("volumes", []):
            if "secret" in volume:
                referenced.add(volume["secret"]["secretName"])
    assert referenced == expected


def _configured(overlay: str, container: dict[str, Any], name: str) -> str:
    """A setting's value from the container's env, else from the ConfigMaps it takes whole."""
    if name in _env(container):
        value: str = _env(container)[name]["value"]
        return value
    configs = {c["metadata"]["name"]: c.get("data", {}) for c in objects(overlay, "ConfigMap")}
    found = [
        configs[source["configMapRef"]["name"]][name]
        for source in container.get("envFrom", [])
        if name in configs[source["configMapRef"]["name"]]
    ]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def test_dev_runs_in_dev_mode_and_production_does_not() -> None:
    for overlay, dev_mode, secure in (
        ("dev", "true", "false"),
        ("prod", "false", "true"),
        ("strimzi", "false", "true"),
    ):
        for service in AUTHENTICATING:
            (container,) = named(overlay, "Deployment", WORKLOADS[service])["spec"]["template"][
                "spec"
            ]["containers"]
            assert _configured(overlay, container, "HERALD_AUTH_DEV_MODE") == dev_mode
            # Plain HTTP in dev: a Secure cookie would never come back.
            assert _configured(overlay, container, "HERALD_AUTH_SESSION_COOKIE_SECURE") == secure
            secret = _env(container)["HERALD_AUTH_HS256_SECRET"]["valueFrom"]["secretKeyRef"]
            assert secret["name"].startswith("herald-auth")
            assert secret.get("optional", False) is False


def test_the_mailer_reaches_a_relay_and_dev_has_a_sink() -> None:
    for overlay in OVERLAYS:
        mailer = named(overlay, "Deployment", "herald-mailer")
        (container,) = mailer["spec"]["template"]["spec"]["containers"]
        port = int(_configured(overlay, container, "HERALD_MAILER_SMTP_PORT"))
        allowed = {
            p["port"]
            for policy in objects(overlay, "NetworkPolicy")
            if policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
            == "herald-mailer"
            for rule in policy["spec"].get("egress", [])
            for p in rule["ports"]
        }
        assert port in allowed, overlay
        # Consumers in one group: more replicas than partitions would sit idle.
        partitions = TopicSettings.model_construct().partitions(ALLOCATION_COMPLETED_TOPIC)
        assert mailer["spec"]["replicas"] <= partitions
    (container,) = named("dev", "Deployment", "herald-mailer")["spec"]["template"]["spec"][
        "containers"
    ]
    host = _configured("dev", container, "HERALD_MAILER_SMTP_HOST")
    sink = named("dev", "Service", host)
    assert sink["spec"]["ports"][0]["port"] == int(
        _configured("dev", container, "HERALD_MAILER_SMTP_PORT")
    )


def test_dev_points_herald_at_its_own_kafka_and_postgres() -> None:
    config = _config("dev")
    kafka = named("dev", "Service", "herald-kafka")
    assert config["HERALD_KAFKA_BOOTSTRAP"] == f"herald-kafka:{kafka['spec']['ports'][0]['port']}"
    (kafka_container,) = named("dev", "StatefulSet", "herald-kafka")["spec"]["template"]["spec"][
        "containers"
    ]
    assert (
        _env(kafka_container)["KAFKA_ADVERTISED_LISTENERS"]["value"]
        == "PLAINTEXT://herald-kafka:9092"
    )
    assert config["HERALD_TOPICS_REPLICATION_FACTOR"] == "1"


# --- Strimzi ---------------------------------------------------------------------------


def _acls(user: str) -> dict[tuple[str, str], set[str]]:
    (obj,) = [u for u in objects("strimzi", "KafkaUser") if u["metadata"]["name"] == user]
    assert obj["spec"]["authentication"]["type"] == "scram-sha-512"
    return {
        (rule["resource"]["type"], rule["resource"]["name"]): set(rule["operations"])
        for rule in obj["spec"]["authorization"]["acls"]
    }


def test_strimzi_topics_match_the_topic_settings() -> None:
    defaults = TopicSettings.model_construct()  # defaults only, never the environment
    expected = {spec.name: spec.partitions for spec in topic_specs(defaults)}
    topics = {
        t["spec"]["topicName"]: t["spec"]["partitions"] for t in objects("strimzi", "KafkaTopic")
    }
    assert topics == expected
    config = _config("strimzi")
    for field, value in TopicSettings.model_fields.items():
        if field.endswith("_partitions"):
            assert config[f"HERALD_TOPICS_{field.upper()}"] == str(value.default)
    replicas = {t["spec"]["replicas"] for t in objects("strimzi", "KafkaTopic")}
    assert replicas == {int(config["HERALD_TOPICS_REPLICATION_FACTOR"])}


def test_strimzi_users_may_do_exactly_what_each_service_does() -> None:
    topics = TopicSettings.model_construct()
    dlq = TopicSettings.dead_letter
    read, write = {"Read", "Describe"}, {"Write", "Describe"}
    assert _acls("herald-allocation") == {
        ("topic", topics.allocation_requested): write,
        ("topic", topics.notification_requested): write,
        ("topic", topics.revocation_requested): write,
    }

    def group(service: str) -> str:
        (container,) = named("strimzi", "Deployment", f"herald-{service}")["spec"]["template"][
            "spec"
        ]["containers"]
        app_id: str = _env(container)[f"HERALD_{service.upper()}_APP_ID"]["value"]
        return app_id

    assert _acls("herald-inserter") == {
        ("topic", topics.allocation_requested): read,
        ("topic", topics.notification_requested): read,
        ("topic", topics.revocation_requested): read,
        ("group", group("inserter")): read,
        ("topic", topics.voucher_allocated): write,
        ("topic", topics.notification_pushed): write,
        ("topic", topics.voucher_revoked): write,
        ("topic", topics.allocation_completed): write,
        ("topic", dlq(topics.allocation_requested)): write,
        ("topic", dlq(topics.notification_requested)): write,
        ("topic", dlq(topics.revocation_requested)): write,
    }
    # No consumer group: every replica reads every partition.
    assert _acls("herald-notifier") == {
        ("topic", topics.voucher_allocated): read,
        ("topic", topics.notification_pushed): read,
        ("topic", topics.voucher_revoked): read,
        ("topic", topics.allocation_completed): read,
        ("topic", dlq(topics.voucher_allocated)): write,
        ("topic", dlq(topics.notification_pushed)): write,
        ("topic", dlq(topics.voucher_revoked)): write,
        ("topic", dlq(topics.allocation_completed)): write,
    }
    assert _acls("herald-mailer") == {
        ("topic", topics.allocation_completed): read,
        ("group", group("mailer")): read,
        ("topic", topics.notification_pushed): write,
        ("topic", dlq(topics.allocation_completed)): write,
    }
    users = {u["metadata"]["name"] for u in objects("strimzi", "KafkaUser")}
    assert users == set(KAFKA_CLIENTS.values())


def test_strimzi_acls_name_existing_topics_and_readers_can_dead_letter() -> None:
    topics = {t["spec"]["topicName"] for t in objects("strimzi", "KafkaTopic")}
    for user in KAFKA_CLIENTS.values():
        acls = _acls(user)
        for (kind, name), operations in acls.items():
            if kind == "topic":
                assert name in topics
            if kind == "topic" and "Read" in operations:
                assert "Write" in acls.get(("topic", f"{name}.dlq"), set()), (user, name)


def test_strimzi_services_log_in_as_their_own_user_over_tls() -> None:
    config = _config("strimzi")
    assert config["HERALD_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["HERALD_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert config["HERALD_KAFKA_BOOTSTRAP"].endswith(":9093")
    users = {u["metadata"]["name"] for u in objects("strimzi", "KafkaUser")}
    for service, name in KAFKA_CLIENTS.items():
        deployment = named("strimzi", "Deployment", name)
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = _env(container)
        username = env["HERALD_KAFKA_SASL_USERNAME"]["value"]
        assert username == name
        assert username in users
        assert env["HERALD_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": username, "key": "password",
        }  # fmt: skip
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert str(Path(config["HERALD_KAFKA_SSL_CAFILE"]).parent) in mounts, service
    # The gateway talks to no store: no Kafka login, no shared Kafka settings.
    (gateway,) = named("strimzi", "Deployment", "herald-gateway")["spec"]["template"]["spec"][
        "containers"
    ]
    assert "envFrom" not in gateway
    assert not any(name.startswith("HERALD_KAFKA_") for name in _env(gateway))
    assert "volumeMounts" not in gateway or all(
        "kafka" not in m["name"] for m in gateway["volumeMounts"]
    )
