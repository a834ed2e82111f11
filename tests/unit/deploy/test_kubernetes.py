"""deploy/kubernetes/: every core manifest against the Kubernetes OpenAPI schemas
(kubernetes-validate, offline, strict), the operators' resources by structure, and the
topics against the code that creates them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from schemas.settings import MetricsSettings, Settings
from stream.cli.main import app

K8S = Path(__file__).parents[3] / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.33.0"
CORE = ("v1", "apps/v1", "batch/v1")


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d]


def _all() -> list[tuple[Path, dict[str, Any]]]:
    files = sorted((K8S / "base").glob("*.yaml")) + sorted((K8S / "operators").glob("*.yaml"))
    return [(p, d) for p in files if p.name != "kustomization.yaml" for d in _docs(p)]


def _kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in _all() if d["kind"] == kind]


@pytest.mark.parametrize(
    ("path", "doc"),
    [(p, d) for p, d in _all() if d["apiVersion"] in CORE],
    ids=lambda v: v.name if isinstance(v, Path) else v["metadata"]["name"],
)
def test_core_manifests_validate_against_the_kubernetes_schemas(
    path: Path, doc: dict[str, Any]
) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_a_broken_manifest() -> None:
    worker = next(d for d in _kind("Deployment") if d["metadata"]["name"].endswith("worker"))
    worker["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES_VERSION, strict=True)


def test_kustomizations_name_files_that_exist() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        doc = yaml.safe_load(kustomization.read_text("utf-8"))
        for resource in doc.get("resources", []):
            assert (kustomization.parent / resource).exists(), (kustomization, resource)
        for generator in doc.get("secretGenerator", []):
            for env in generator["envs"]:
                assert (kustomization.parent / f"{env}.example").exists()
                ignored = (kustomization.parent / ".gitignore").read_text("utf-8").split()
                assert env in ignored
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text("utf-8"))
    listed = set(base["resources"])
    assert listed == {p.name for p in (K8S / "base").glob("*.yaml")} - {"kustomization.yaml"}


def test_deployments_probe_health_and_readiness_on_the_metrics_port() -> None:
    ports = MetricsSettings()
    expected = {"worker": ports.worker_port, "sink": ports.sink_port, "console": ports.console_port}
    deployments = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in _kind("Deployment")
    }
    assert set(deployments) == set(expected)
    for component, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        port = next(p for p in container["ports"] if p["name"] == "metrics")
        assert port["containerPort"] == expected[component]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        args = [a for a in container["args"][1:] if not a.startswith("-")]
        assert CliRunner().invoke(app, [*args, "--help"]).exit_code == 0, args
    workers = deployments["worker"]["spec"]["replicas"]
    settings = yaml.safe_load((K8S / "base" / "configmap.yaml").read_text("utf-8"))["data"]
    assert workers <= int(settings["CUSTOMS_WATCH_TOPICS_PARTITIONS"])  # more would idle


def test_the_configmap_and_secret_hold_only_settings_customs_watch_reads() -> None:
    data = yaml.safe_load((K8S / "base" / "configmap.yaml").read_text("utf-8"))["data"]
    secret = (K8S / "base" / "secrets.env.example").read_text("utf-8").splitlines()
    data |= dict(ln.split("=", 1) for ln in secret if ln and not ln.startswith("#"))
    nested: dict[str, Any] = {}
    for key, value in data.items():
        name = key.removeprefix("CUSTOMS_WATCH_").lower()
        if name in Settings.model_fields:
            nested[name] = value
            continue
        group, _, field = name.partition("_")
        fields = Settings.model_fields[group].annotation.model_fields  # type: ignore[union-attr]
        assert field in fields, key
        nested.setdefault(group, {})[field] = value
    Settings.model_validate(nested)


def test_the_service_monitor_scrapes_a_port_every_service_names() -> None:
    (monitor,) = _kind("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    wanted = monitor["spec"]["selector"]["matchLabels"]
    services = _kind("Service")
    assert len(services) == 3
    for service in services:
        assert wanted.items() <= service["metadata"]["labels"].items()
        assert monitor["spec"]["endpoints"][0]["port"] in {
            p["name"] for p in service["spec"]["ports"]
        }


def _make_topics() -> Any:
    spec = importlib.util.spec_from_file_location("make_topics", K8S / "make_topics.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kafka_topics_agree_with_the_topic_admin_code() -> None:
    generated = (K8S / "operators" / "kafka-topics.yaml").read_text("utf-8")
    assert generated == _make_topics().render(), "run deploy/kubernetes/make_topics.py"
    topics = _kind("KafkaTopic")
    settings = Settings()
    assert {t["spec"]["topicName"] for t in topics} == set(settings.topics.all_names())
    actions = next(t for t in topics if t["spec"]["topicName"] == settings.topics.alert_actions)
    assert actions["spec"]["config"]["retention.ms"] == -1  # the audit trail is kept
    for topic in topics:
        assert topic["apiVersion"] == "kafka.strimzi.io/v1"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "customs-watch"
        assert topic["spec"]["replicas"] <= _kind("KafkaNodePool")[0]["spec"]["replicas"]


def test_kafka_runs_in_kraft_mode() -> None:
    (kafka,) = _kind("Kafka")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    (pool,) = _kind("KafkaNodePool")
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]


def test_clickhouse_is_two_shards_of_two_replicas_named_as_cluster_mode_expects() -> None:
    (chi,) = _kind("ClickHouseInstallation")
    assert chi["apiVersion"] == "clickhouse.altinity.com/v1"
    (cluster,) = chi["spec"]["configuration"]["clusters"]
    assert cluster["layout"] == {"shardsCount": 2, "replicasCount": 2}
    assert chi["spec"]["configuration"]["zookeeper"]["nodes"]  # Keeper: replication, ON CLUSTER
    overlay = yaml.safe_load((K8S / "overlays" / "cluster" / "kustomization.yaml").read_text())
    literals = overlay["configMapGenerator"][0]["literals"]
    assert f"CUSTOMS_WATCH_CLICKHOUSE_CLUSTER={cluster['name']}" in literals
    secret = (K8S / "base" / "secrets.env.example").read_text("utf-8")
    shard_dsns = next(
        ln for ln in secret.splitlines() if ln.startswith("CUSTOMS_WATCH_CLICKHOUSE_SHARD_DSNS")
    )
    assert len(shard_dsns.split(",")) == cluster["layout"]["shardsCount"]


SCHEMAS = K8S / "crd-schemas"


def _strict(schema: Any) -> Any:
    """The API server prunes fields a structural schema does not name; refuse them instead
    (as kubernetes-validate's strict mode does for the core kinds), except where the schema
    keeps unknown fields."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _crd_schema(doc: dict[str, Any]) -> dict[str, Any]:
    group, version = doc["apiVersion"].split("/")
    path = SCHEMAS / f"{group}_{version}_{doc['kind']}.json"
    assert path.exists(), f"no published schema for {doc['apiVersion']} {doc['kind']}"
    schema = _strict(json.loads(path.read_text("utf-8")))
    # metadata is the API server's (ObjectMeta), not the CRD's
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return schema


@pytest.mark.parametrize(
    ("path", "doc"),
    [(p, d) for p, d in _all() if d["apiVersion"] not in CORE],
    ids=lambda v: v.name if isinstance(v, Path) else f"{v['kind']}-{v['metadata']['name']}",
)
def test_custom_resources_validate_against_their_operators_schemas(
    path: Path, doc: dict[str, Any]
) -> None:
    validator = jsonschema.Draft7Validator(_crd_schema(doc))
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors


def test_the_operator_schemas_refuse_a_wrong_resource() -> None:
    (chi,) = _kind("ClickHouseInstallation")
    chi["spec"]["configuration"]["clusters"][0]["layout"]["shardsCount"] = "two"
    chi["spec"]["configuration"]["clusterz"] = []
    errors = list(jsonschema.Draft7Validator(_crd_schema(chi)).iter_errors(chi))
    assert len(errors) >= 1
    topic = _kind("KafkaTopic")[0]
    topic["spec"]["partitionz"] = 3
    assert list(jsonschema.Draft7Validator(_crd_schema(topic)).iter_errors(topic))
