"""Secret-looking values written in clear (warned about, remembered so that nothing prints them) and
``--allowed-clusters`` (a document touching another cluster is a validation problem at its FILE:LINE)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from reconciler.desired import load_desired_state
from reconciler.desired.scope import refused_clusters, touched_clusters
from reconciler.desired.secrets import secret_warnings
from reconciler.errors import InvalidDesiredState
from reconciler.model.secrets import KNOWN_SECRETS, is_secret_name, masked, redact
from reconciler.shapes import BotocoreSpecChecker
from tests.desired.corpus import doc
from tests.desired.corpus_load_balancing import estate
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD", "db_password", "dbPassword", "MYSQL_PWD", "REDIS_PASS", "PASSWD", "JWT_SECRET",
        "OAUTH_CLIENT_SECRET", "ClientSecret", "GITHUB_TOKEN", "AWS_SESSION_TOKEN", "API_KEY", "apiKey",
        "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "PRIVATE_KEY", "GOOGLE_APPLICATION_CREDENTIALS_JSON",
        "WORDPRESS_AUTH_KEY", "WORDPRESS_SECURE_AUTH_KEY", "WORDPRESS_LOGGED_IN_KEY", "WORDPRESS_NONCE_SALT",
        "STRIPE_KEY", "BASIC_AUTH", "Authorization", "SENTRY_DSN", "SECRET_KEY_BASE", "splunk-token",
    ],
)  # fmt: skip
def test_secret_looking_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "WORDPRESS_DB_USER", "WORDPRESS_DB_HOST", "SERVER_PORT", "AWS_REGION", "APP_ENV", "API_URL", "AUTH_URL",
        "AUTH_ENABLED", "AUTHOR", "TOKEN_TTL", "DB_PASSWORD_FILE", "SECRET_ARN", "AWS_ACCESS_KEY_ID",
        "KMS_KEY_ID", "PASSWORD_MIN_LENGTH", "PUBLIC_KEY", "CACHE_KEY", "PWD", "TokenEndpoint",
        "credentialsParameter", "awslogs-group", "SECRETS_MANAGER_REGION",
    ],
)  # fmt: skip
def test_names_that_do_not_look_secret(name: str) -> None:
    assert not is_secret_name(name)


TASK = doc(
    """
    apiVersion: reconciler/v1
    kind: TaskDefinition
    metadata:
      name: web
    spec:
      containerDefinitions:
        - name: app
          image: nginx
          environment:
            - {name: SERVER_PORT, value: "8080"}
            - {name: DB_PASSWORD, value: "@PASSWORD@"}
            - {name: DATABASE_URL, value: "postgres://app:@URLPW@@db/app"}
          secrets:
            - {name: API_TOKEN, valueFrom: arn:aws:ssm:us-east-1:123456789012:parameter/api-token}
          logConfiguration:
            logDriver: splunk
            options:
              splunk-url: https://splunk.example.com
              splunk-token: "@TOKEN@"
    """
)  # 11 DB_PASSWORD · 12 DATABASE_URL · 19 splunk-token


def test_values_written_in_clear_are_warned_about_at_their_line_and_remembered(tmp_path: Path) -> None:
    password, url_password, token = (f"s3cr3t-{uuid.uuid4()}" for _ in range(3))
    text = TASK.replace("@PASSWORD@", password).replace("@URLPW@", url_password).replace("@TOKEN@", token)
    write_tree(tmp_path, {"ds/task.yaml": text})
    desired = load_desired_state(tmp_path / "ds", check_spec=CHECKER)
    warnings = [str(w).removeprefix(f"{tmp_path}/") for w in secret_warnings(desired)]
    suggestion = "looks secret: use `secrets` with an SSM parameter (valueFrom) instead"
    assert warnings == [
        f"ds/task.yaml:11: environment DB_PASSWORD of container app in TaskDefinition/web {suggestion}",
        f"ds/task.yaml:12: environment DATABASE_URL of container app in TaskDefinition/web {suggestion}",
        "ds/task.yaml:19: log option splunk-token of container app in TaskDefinition/web looks secret: use "
        "`logConfiguration.secretOptions` with an SSM parameter (valueFrom) instead",
    ]
    assert all(value in KNOWN_SECRETS for value in (password, url_password, token))
    error = f"ClientException: environment value {password} is invalid; token {token}; pw {url_password}"
    assert redact(error) == (
        f"ClientException: environment value {masked(password)} is invalid; token {masked(token)}; "
        f"pw {masked(url_password)}"
    )


def test_a_value_that_does_not_look_secret_is_not_remembered(tmp_path: Path) -> None:
    port, region = f"port-{uuid.uuid4()}", f"region-{uuid.uuid4()}"
    write_tree(
        tmp_path, {"ds/task.yaml": TASK.replace('"8080"', f'"{port}"'), "ds/vars.yaml": f"REGION: {region}\n"}
    )
    load_desired_state(tmp_path / "ds", check_spec=CHECKER)
    assert port not in KNOWN_SECRETS and redact(port) == port
    assert region not in KNOWN_SECRETS


def test_secret_looking_variables_are_remembered_wherever_they_are_used(tmp_path: Path) -> None:
    token = f"tok-{uuid.uuid4()}"
    text = TASK.replace("image: nginx", "image: nginx\n      command: [run, --token, '${API_TOKEN}']")
    write_tree(tmp_path, {"ds/task.yaml": text, "ds/vars.yaml": f"API_TOKEN: {token}\n"})
    load_desired_state(tmp_path / "ds", check_spec=CHECKER)
    assert (
        token in KNOWN_SECRETS
        and redact(f"command run --token {token}") == f"command run --token {masked(token)}"
    )


def load_scoped(root: Path, files: dict[str, str | bytes], allowed: set[str]) -> list[str]:
    write_tree(root, {f"ds/{name}": text for name, text in files.items()})
    try:
        load_desired_state(root / "ds", check_spec=CHECKER, allowed_clusters=allowed)
    except InvalidDesiredState as exc:
        return [str(p).removeprefix(f"{root}/") for p in exc.problems]
    return []


def test_documents_touching_a_cluster_outside_allowed_clusters_are_refused_at_their_line(
    tmp_path: Path,
) -> None:
    problems = load_scoped(tmp_path, estate(), {"staging", "dev"})
    refused = "cluster 'prod' is not in --allowed-clusters (dev, staging); this reconciler may not touch it"
    assert problems == [
        f"ds/cluster.yaml:4: metadata.name: {refused}",
        f"ds/scaling/night.yaml:7: spec.ResourceId: {refused}",
        f"ds/scaling/policy.yaml:7: spec.ResourceId: {refused}",
        f"ds/scaling/target.yaml:7: spec.ResourceId: {refused}",
        f"ds/service.yaml:6: spec.cluster: {refused}",
    ]


def test_a_cluster_given_by_arn_is_scoped_by_its_name(tmp_path: Path) -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:cluster/other"
    problems = load_scoped(tmp_path, estate(("service.yaml", "cluster: prod", f"cluster: {arn}")), {"prod"})
    assert (
        "ds/service.yaml:6: spec.cluster: cluster 'other' is not in --allowed-clusters (prod); this reconciler "
        "may not touch it"
    ) in problems


def test_no_allowed_clusters_or_only_allowed_ones_is_valid(tmp_path: Path) -> None:
    assert load_scoped(tmp_path / "any", estate(), set()) == []
    assert load_scoped(tmp_path / "listed", estate(), {"prod", "staging"}) == []


def test_what_each_kind_touches() -> None:
    group = {"ecsServices": [{"clusterName": "prod", "serviceName": "a"}, {"clusterName": "other", "serviceName": "b"}]}  # fmt: skip
    assert touched_clusters("DeploymentGroup", "web", group) == [
        ("ecsServices[0].clusterName", "prod"),
        ("ecsServices[1].clusterName", "other"),
    ]
    assert refused_clusters("DeploymentGroup", "web", group, {"prod"}) == ["other"]
    target = {"ServiceNamespace": "ecs", "ResourceId": "service/other/web"}
    assert refused_clusters("ScalableTarget", "web", target, {"prod"}) == ["other"]
    assert refused_clusters("ScalableTarget", "web", target, set()) == []
    table = {"ServiceNamespace": "dynamodb", "ResourceId": "table/x"}
    assert touched_clusters("ScalableTarget", "x", table) == []
    assert touched_clusters("TaskDefinition", "web", {"containerDefinitions": []}) == []
    assert touched_clusters("Cluster", "prod", {}) == [("", "prod")]
