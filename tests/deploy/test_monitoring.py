"""The monitoring artefacts in deploy/ against the code: alerts, their promtool tests, the Grafana dashboard and the
CloudWatch agent configuration may only use metrics (and labels) that reconciler/metrics.py really exposes, and the
CloudWatch agent must discover the task the reconciler really runs as.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from reconciler import metrics
from reconciler.server import Probe, make_app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts.test.yaml"
DASHBOARD = DEPLOY / "grafana" / "reconciler-dashboard.json"
CWAGENT = DEPLOY / "cloudwatch" / "cwagent-config.json"
SCRAPE_CONFIG = DEPLOY / "cloudwatch" / "prometheus.yaml"
SELF_DESIRED = DEPLOY / "desired-state" / "reconciler.yaml"

# How the reconciler runs itself; deploy/desired-state/reconciler.yaml, when present, is the authority.
FAMILY = "reconciler"
CONTAINER = "reconciler"
PORT = 8080
CLUSTER = "platform-tools"
METRICS_PATH = "/metrics"
JOB = "reconciler"

# The alerts the reconciler ships with (more may exist; each must be tested).
REQUIRED_ALERTS = {
    "ReconcilerDriftPersisting",
    "ReconcilerDriftCorrectedRepeatedly",
    "ReconcilerPassesFailing",
    "ReconcilerDesiredStateInvalid",
    "ReconcilerNoSuccessfulPass",
    "ReconcilerMetricsAbsent",
    "ReconcilerAWSThrottling",
    "ReconcilerResourceFighting",
    "ReconcilerLeaderMissing",
    "ReconcilerDeploymentOverdue",
    "ReconcilerServiceDegraded",
    "ReconcilerServiceProgressingTooLong",
}
# Metrics that must be on the dashboard (docs/metrics.md, column D, marks every metric that is).
DASHBOARD_METRICS = {
    "reconciler_cycles_total",
    "reconciler_cycle_duration_seconds_bucket",
    "reconciler_last_success_timestamp_seconds",
    "reconciler_resource_drifted",
    "reconciler_drift_detected_total",
    "reconciler_drift_corrected_total",
    "reconciler_changes_applied_total",
    "reconciler_apply_errors_total",
    "reconciler_desired_state_valid",
    "reconciler_desired_revision_info",
    "reconciler_aws_api_calls_total",
    "reconciler_leader",
    "reconciler_resource_fighting",
    "reconciler_deletions_blocked",
    "reconciler_codedeploy_deployments_started_total",
    "reconciler_deployment_failed",
    "reconciler_deployment_overdue",
    "reconciler_resource_health",
}
# The metrics the CloudWatch agent must turn into CloudWatch metrics.
CLOUDWATCH_METRICS = {
    "reconciler_resource_drifted",
    "reconciler_cycles_total",
    "reconciler_last_success_timestamp_seconds",
    "reconciler_aws_api_calls_total",
}
TARGET_LABELS = {"job", "instance"}  # added by the scraper to every series
# Labels the CloudWatch agent's ECS service discovery puts on a target, and ClusterName, which the agent adds.
ECS_SD_LABELS = {
    "ClusterName",
    "TaskDefinitionFamily",
    "TaskRevision",
    "TaskGroup",
    "StartedBy",
    "LaunchType",
    "TaskClusterName",
    "TaskId",
    "container_name",
    "job",
    "instance",
}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
PROMQL_KEYWORDS |= {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")


# ---------------------------------------------------------------------------------------------- what the code exposes
def _exposed_series() -> dict[str, frozenset[str]]:
    """Every series name reconciler.metrics exposes (with the suffixes prometheus_client adds), and its labels."""
    labels = {
        obj._name: frozenset(obj._labelnames)
        for obj in vars(metrics).values()
        if isinstance(obj, MetricWrapperBase)
    }
    series: dict[str, frozenset[str]] = {}
    for family in metrics.REGISTRY.collect():
        own = labels[family.name]
        if family.type == "counter":  # *_created is switched off in reconciler.metrics: not exposed
            series[f"{family.name}_total"] = own
        elif family.type == "histogram":
            series[f"{family.name}_bucket"] = own | {"le"}
            series[f"{family.name}_count"] = own
            series[f"{family.name}_sum"] = own
        elif family.type == "summary":
            series[family.name] = own | {"quantile"}
            series[f"{family.name}_count"] = own
            series[f"{family.name}_sum"] = own
        else:
            series[family.name] = own
    return series


EXPOSED = _exposed_series()
HISTOGRAM_SERIES = {
    f"{family.name}{suffix}"
    for family in metrics.REGISTRY.collect()
    if family.type == "histogram"
    for suffix in ("_bucket", "_count", "_sum")
}


def test_the_registry_is_read_with_suffixes() -> None:
    # guards the helper itself: a counter gets _total, a histogram _bucket/_count/_sum, a gauge nothing
    assert "reconciler_cycles_total" in EXPOSED
    assert "reconciler_cycles" not in EXPOSED
    assert {"reconciler_cycle_duration_seconds_bucket", "reconciler_cycle_duration_seconds_sum"} <= set(
        EXPOSED
    )
    assert EXPOSED["reconciler_resource_drifted"] == {"kind", "name", "target"}
    assert "le" in EXPOSED["reconciler_cycle_duration_seconds_bucket"]


# ---------------------------------------------------------------------------------------------- PromQL, roughly parsed
def _strip_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def promql_metrics(expr: str) -> set[str]:
    """The metric names an expression selects: every identifier that is not a function, keyword or label name."""
    text = _strip_strings(expr)
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # Grafana variables ($__rate_interval, ${job})
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = GROUPING.sub(" ", text)  # by (...), on (...), group_left (...)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group().lower() in PROMQL_KEYWORDS:
            continue  # a function call or a keyword
        names.add(match.group())
    return names


def promql_selector_labels(expr: str) -> Iterator[tuple[str, str]]:
    """(metric, label name) for every matcher written on a metric: `foo{bar="x"}`."""
    for selector in re.finditer(r"([A-Za-z_:][\w:]*)\s*\{([^}]*)\}", expr):
        for label in re.finditer(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", _strip_strings(selector.group(2))):
            yield selector.group(1), label.group(1)


def promql_grouping_labels(expr: str) -> set[str]:
    return {
        label.strip()
        for clause in GROUPING.finditer(expr)
        for label in clause.group(2).split(",")
        if label.strip()
    }


def check_promql(expr: str, where: str) -> set[str]:
    """Assert that every metric and label an expression uses exists; return its metrics."""
    used = promql_metrics(expr)
    assert used, f"{where}: no metric found in {expr!r}"
    unknown = used - set(EXPOSED)
    assert not unknown, f"{where}: {sorted(unknown)} not exposed by reconciler/metrics.py (expr: {expr})"
    for metric, label in promql_selector_labels(expr):
        assert label in EXPOSED[metric] | TARGET_LABELS, f"{where}: {metric} has no label {label!r}"
    known_labels = set().union(*(EXPOSED[metric] for metric in used)) | TARGET_LABELS
    grouping = promql_grouping_labels(expr)
    assert grouping <= known_labels, f"{where}: grouping by unknown labels {sorted(grouping - known_labels)}"
    return used


def test_the_promql_reader_finds_metrics_and_rejects_typos() -> None:
    expr = 'histogram_quantile(0.95, sum by (le) (rate(reconciler_cycle_duration_seconds_bucket{job=~"$job"}[5m])))'
    assert promql_metrics(expr) == {"reconciler_cycle_duration_seconds_bucket"}
    assert promql_metrics("time() - max by (job) (reconciler_last_success_timestamp_seconds) > 3e2") == {
        "reconciler_last_success_timestamp_seconds"
    }
    assert promql_metrics("sum(a) / ignoring (outcome) group_left sum by (x) (b_total offset 5m)") == {
        "a",
        "b_total",
    }
    with pytest.raises(AssertionError, match="not exposed"):
        check_promql("rate(reconciler_cycle_total[5m])", "typo")
    with pytest.raises(AssertionError, match="no label"):
        check_promql('reconciler_cycles_total{outcome="error"}', "wrong label")
    with pytest.raises(AssertionError, match="unknown labels"):
        check_promql("sum by (service) (reconciler_cycles_total)", "wrong grouping")


# ---------------------------------------------------------------------------------------------- alerts
def _alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


def _output_labels(expr: str) -> set[str]:
    """The labels an alert expression's result can carry (what $labels can name)."""
    grouping = promql_grouping_labels(expr)
    if grouping:  # aggregated: the `by` labels, plus those `absent(foo{job="x"})` keeps
        absent = {
            label for _, label in promql_selector_labels(" ".join(re.findall(r"absent\(([^)]*)\)", expr)))
        }
        return grouping | absent
    return set().union(*(EXPOSED[metric] for metric in promql_metrics(expr))) | TARGET_LABELS


def test_alert_expressions_use_only_exposed_metrics() -> None:
    rules = _alert_rules()
    assert rules
    for rule in rules:
        check_promql(rule["expr"], f"alert {rule['alert']}")
        for text in rule.get("annotations", {}).values():  # query templates in annotations
            unknown = set(re.findall(r"\breconciler_\w+", text)) - set(EXPOSED)
            assert not unknown, f"alert {rule['alert']}: annotation names {sorted(unknown)}"


def test_every_required_alert_exists_with_severity_and_annotations() -> None:
    rules = _alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "duplicate alert names"
    missing = REQUIRED_ALERTS - set(names)
    assert not missing, f"alerts.yaml lacks {sorted(missing)}"
    for rule in rules:
        where = f"alert {rule['alert']}"
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}, where
        annotations = rule.get("annotations", {})
        assert {"summary", "description", "runbook"} <= set(annotations), where
        outputs = _output_labels(rule["expr"])
        for text in annotations.values():
            used = set(re.findall(r"\$labels\.(\w+)", text))
            assert used <= outputs, (
                f"{where}: $labels {sorted(used - outputs)} are never set by {rule['expr']!r}"
            )
        if {"kind", "name"} <= outputs:
            for key in ("summary", "description"):
                assert "{{ $labels.kind }}/{{ $labels.name }}" in annotations[key], (
                    f"{where}: {key} names no resource"
                )


def test_every_alert_has_a_firing_and_a_quiet_promtool_case() -> None:
    tests = yaml.safe_load(ALERT_TESTS.read_text())
    assert [ALERTS.resolve()] == [(ALERT_TESTS.parent / name).resolve() for name in tests["rule_files"]]
    fires: set[str] = set()
    quiet: set[str] = set()
    for group in tests["tests"]:
        for case in group.get("alert_rule_test", []):
            expected = case.get("exp_alerts") or []
            (fires if expected else quiet).add(case["alertname"])
            for alert in expected:
                assert alert.get("exp_annotations"), (
                    f"{case['alertname']}: a firing case must check annotations"
                )
                assert "severity" in alert.get("exp_labels", {}), f"{case['alertname']}: no severity checked"
    names = {rule["alert"] for rule in _alert_rules()}
    assert not names - fires, f"no case where these fire: {sorted(names - fires)}"
    assert not names - quiet, f"no case where these stay quiet: {sorted(names - quiet)}"
    assert not (fires | quiet) - names, (
        f"tests of alerts that do not exist: {sorted((fires | quiet) - names)}"
    )


# ---------------------------------------------------------------------------------------------- dashboard
def _panels(container: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in container.get("panels", []):
        yield panel
        yield from _panels(panel)  # rows, collapsed or not


def test_dashboard_uses_a_datasource_variable_and_exposed_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36
    variables = {var["name"]: var for var in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    used: set[str] = set()
    ids = []
    for panel in _panels(dashboard):
        ids.append(panel["id"])
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"]) == panel["datasource"], panel["title"]
            used |= check_promql(target["expr"], f"panel {panel['title']!r}")
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for name, var in variables.items():
        if var["type"] == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            inner = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", query)
            assert inner, f"variable {name}: {query}"
            used |= check_promql(inner.group(1), f"variable {name}")
    missing = DASHBOARD_METRICS - used
    assert not missing, f"no panel shows {sorted(missing)}"


def _promtool() -> str | None:
    candidates = [
        os.environ.get("PROMTOOL"),
        str(ROOT / ".tools" / "promtool"),
        shutil.which("promtool"),
    ]
    return next((c for c in candidates if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


def test_dashboard_queries_parse(tmp_path: Path) -> None:
    """Every dashboard query, with Grafana's variables filled in, is valid PromQL (checked by promtool)."""
    promtool = _promtool()
    if promtool is None:
        pytest.skip("promtool not found (set PROMTOOL, or run `make deploy-checks` first)")
    dashboard = json.loads(DASHBOARD.read_text())
    rules = []
    for panel in _panels(dashboard):
        for index, target in enumerate(panel.get("targets", [])):
            expr = (
                target["expr"]
                .replace("$__rate_interval", "5m")
                .replace("$job", ".*")
                .replace("$instance", ".*")
            )
            rules.append({"record": f"dashboard:panel_{panel['id']}_{index}", "expr": expr})
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------- CloudWatch agent
def _prometheus_section() -> dict[str, Any]:
    config = json.loads(CWAGENT.read_text())
    section: dict[str, Any] = config["logs"]["metrics_collected"]["prometheus"]
    return section


def _resolve(value: object, variables: dict[str, object]) -> str:
    """A desired-state value with its ${NAME} / ${NAME:=default} variables replaced."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        if name in variables:
            return str(variables[name])
        assert default is not None, f"undefined variable {name}"
        return default

    return re.sub(r"\$\{(\w+)(:=([^}]*))?\}", replace, str(value))


def _self_deployment() -> dict[str, str]:
    """Family, container, port and cluster of the reconciler: from its own desired state when that exists."""
    if not SELF_DESIRED.exists():
        return {"family": FAMILY, "container": CONTAINER, "port": str(PORT), "cluster": CLUSTER}
    vars_file = SELF_DESIRED.parent / "vars.yaml"
    variables: dict[str, object] = (yaml.safe_load(vars_file.read_text()) or {}) if vars_file.exists() else {}
    documents = [doc for doc in yaml.safe_load_all(SELF_DESIRED.read_text()) if doc]
    task_definitions = [doc for doc in documents if doc.get("kind") == "TaskDefinition"]
    services = [doc for doc in documents if doc.get("kind") == "Service"]
    assert len(task_definitions) == 1, f"{SELF_DESIRED}: expected one TaskDefinition"
    task_definition = task_definitions[0]
    family = _resolve(task_definition["metadata"]["name"], variables)
    containers = task_definition["spec"]["containerDefinitions"]
    named = [c for c in containers if _resolve(c["name"], variables) == CONTAINER]
    container = named[0] if named else containers[0]
    ports = [_resolve(mapping["containerPort"], variables) for mapping in container.get("portMappings", [])]
    assert ports, f"{SELF_DESIRED}: container {container['name']} maps no port"
    found = {"family": family, "container": _resolve(container["name"], variables), "port": ports[0]}
    found["cluster"] = _resolve(services[0]["spec"]["cluster"], variables) if services else CLUSTER
    if services:  # the Service runs that task definition: by family, family:revision or ARN
        reference = _resolve(services[0]["spec"]["taskDefinition"], variables)
        referenced = re.sub(r"^arn:.*:task-definition/", "", reference).split(":")[0]
        assert referenced == family, f"{SELF_DESIRED}: the Service runs {reference}, not the family {family}"
    return found


def test_cloudwatch_discovers_the_reconciler_task() -> None:
    deployment = _self_deployment()
    if not SELF_DESIRED.exists():  # the fixed facts must then at least agree with the code's defaults
        assert int(deployment["port"]) == PORT
    section = _prometheus_section()
    discovery = section["ecs_service_discovery"]
    entries = [entry for entry in discovery["task_definition_list"] if entry.get("sd_job_name") == JOB]
    assert len(entries) == 1, f"one task_definition_list entry with sd_job_name {JOB!r}"
    entry = entries[0]

    pattern = re.compile(entry["sd_task_definition_arn_pattern"])
    arn = f"arn:aws:ecs:eu-west-1:123456789012:task-definition/{deployment['family']}"
    assert pattern.fullmatch(f"{arn}:7"), "the pattern must match the reconciler's task definition revisions"
    assert not pattern.fullmatch(f"{arn}-canary:7"), "the pattern must not match other families"
    assert not pattern.fullmatch(
        f"arn:aws:ecs:eu-west-1:123456789012:task-definition/other-{deployment['family']}:7"
    )
    assert re.fullmatch(entry["sd_container_name_pattern"], deployment["container"])
    ports = entry["sd_metrics_ports"].split(";")
    assert deployment["port"] in ports, (
        f"the container listens on {deployment['port']}, the agent scrapes {ports}"
    )
    assert entry["sd_metrics_path"] == METRICS_PATH
    assert discovery.get("sd_target_cluster", deployment["cluster"]) == deployment["cluster"]
    assert section.get("cluster_name", deployment["cluster"]) == deployment["cluster"]
    assert section["prometheus_config_path"] == "env:PROMETHEUS_CONFIG_CONTENT"

    # the scrape config the agent reads scrapes what its discovery writes
    scrape = yaml.safe_load(SCRAPE_CONFIG.read_text())
    assert scrape["global"]["scrape_interval"]
    jobs = {job["job_name"]: job for job in scrape["scrape_configs"]}
    files = [file for sd in jobs[JOB]["file_sd_configs"] for file in sd["files"]]
    assert discovery["sd_result_file"] in files


def test_the_daemon_serves_metrics_where_the_agent_scrapes() -> None:
    probe = Probe(healthy=lambda: True, ready=lambda: True, status=dict, request_sync=lambda: None)
    routes = {
        (route.method, route.resource.canonical)
        for route in make_app(probe).router.routes()
        if route.resource
    }
    assert ("GET", METRICS_PATH) in routes


def test_cloudwatch_exports_the_key_metrics() -> None:
    processor = _prometheus_section()["emf_processor"]
    exported: set[str] = set()
    throttled_only = False
    for declaration in processor["metric_declaration"]:
        where = f"metric_declaration {declaration['metric_selectors']}"
        selected: set[str] = set()
        for selector in declaration["metric_selectors"]:
            literal = selector.removeprefix("^").removesuffix("$")
            if re.fullmatch(r"[\w:]+", literal):
                assert literal in EXPOSED, f"{where}: {literal} is not exposed by reconciler/metrics.py"
            matched = {name for name in EXPOSED if re.search(selector, name)}
            assert matched, f"{where}: {selector} matches no exposed series"
            assert not matched & HISTOGRAM_SERIES, f"{where}: the agent drops histograms ({selector})"
            selected |= matched
        # the declaration applies to the job the discovery gives the reconciler
        values = {"job": JOB, "outcome": "throttled"}
        assert set(declaration["source_labels"]) <= set(values), where
        joined = declaration.get("label_separator", ";").join(
            values[label] for label in declaration["source_labels"]
        )
        assert re.search(declaration["label_matcher"], joined), f"{where}: label_matcher never matches"
        if "outcome" in declaration["source_labels"]:
            assert "reconciler_aws_api_calls_total" in selected
            assert not re.search(declaration["label_matcher"], f"{JOB};ok"), (
                f"{where}: exports more than throttled"
            )
            throttled_only = True
        for dimensions in declaration["dimensions"]:
            for metric in selected:
                unknown = set(dimensions) - EXPOSED[metric] - ECS_SD_LABELS
                assert not unknown, f"{where}: {metric} has no label {sorted(unknown)} for a dimension"
        exported |= selected
    missing = CLOUDWATCH_METRICS - exported
    assert not missing, f"not exported to CloudWatch: {sorted(missing)}"
    assert throttled_only, "throttled AWS calls must be exported on their own"
    assert set(processor.get("metric_unit", {})) <= exported


def test_cloudwatch_tells_the_same_name_in_two_targets_apart() -> None:
    """Names are unique per target only: a metric published by resource name also has a dimension set with its
    target, or two targets' resources of one name would be one CloudWatch metric."""
    for declaration in _prometheus_section()["emf_processor"]["metric_declaration"]:
        selected = {
            name
            for selector in declaration["metric_selectors"]
            for name in EXPOSED
            if re.search(selector, name)
        }
        by_name = [set(d) for d in declaration["dimensions"] if "name" in d]
        for metric in selected:
            if by_name and "target" in EXPOSED[metric]:
                assert any("target" in d for d in by_name), f"{metric}: no dimension set with its target"
