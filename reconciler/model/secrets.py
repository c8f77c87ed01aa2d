"""Secret-looking values: which names look secret, how a value is masked, and the values known to be secret.

Secrets belong in a container's ``secrets`` (an SSM parameter or Secrets Manager ARN in ``valueFrom``), never in
``environment``, where they sit in clear text in Git, in every task definition revision, and in anything that
prints a diff. When a document puts one in ``environment`` anyway, the reconciler still never prints it: plan
output, log lines and ``GET /status`` show ``(masked sha256:1a2b3c4d)`` instead, the first 8 hex digits of the
value's SHA-256, so that a change of the value still shows as a change.

Two mechanisms, because neither is enough alone:

- **By structure**: a string under a secret-looking key (``environment[DB_PASSWORD]``, ``{"name":
  "DB_PASSWORD", "value": …}``, ``logConfiguration.options.splunk-token``, an OIDC ``ClientSecret``), and an
  environment value with credentials in a URL (``postgres://user:pw@db``), is masked wherever it appears, live or
  desired. ``secrets``/``secretOptions`` hold references (``valueFrom``), not values, and are left as they are.
- **By value**: every value masked by structure, and every secret-looking value of a loaded desired state, is
  remembered in ``KNOWN_SECRETS``, and any free text (an AWS error message that echoes a request, an exception,
  a log line) has those values replaced before it is shown.

The rule for names (case-insensitive; words split at ``_``, ``-``, ``.`` and camelCase):

- a name ending in a word that says it is *about* a secret, not the secret (``_ARN``, ``_ID``, ``_NAME``,
  ``_FILE``, ``_PATH``, ``_URL``, ``_ENDPOINT``, ``_LENGTH``, ``_TTL``, … see ``_NOT_SECRET_LAST``) is not secret:
  ``DB_PASSWORD_FILE``, ``SECRET_ARN``, ``AWS_ACCESS_KEY_ID``, ``PASSWORD_MIN_LENGTH``;
- otherwise it is secret when it contains PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, CREDENTIAL, APIKEY,
  ACCESSKEY or PRIVATEKEY (separators ignored: ``API_KEY``, ``ApiKey``), or ends in the word KEY, SALT, PEPPER,
  AUTH, AUTHORIZATION, PASS, PWD, PW, DSN, COOKIE or SIGNATURE (``WORDPRESS_AUTH_KEY``, ``WORDPRESS_NONCE_SALT``,
  ``BASIC_AUTH``, ``SENTRY_DSN``), except a KEY that is a ``PUBLIC``, ``PARTITION``, ``SORT``, ``PRIMARY``,
  ``CACHE``, ``OBJECT`` … key, and ``PWD`` alone (the working directory).

Not secret: ``WORDPRESS_DB_USER``, ``SERVER_PORT``, ``AWS_REGION``, ``AUTH_URL``, ``TOKEN_TTL``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

MASK_FORMAT = "(masked sha256:{})"
MASK_MARKER = "(masked"
MIN_KNOWN_LENGTH = 6  # shorter values are not searched for in free text: "true" would mask every "true"

_SUBSTRINGS = (
    "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "ACCESSKEY", "PRIVATEKEY",
)  # fmt: skip
_LAST_WORDS = frozenset(
    {"KEY", "SALT", "PEPPER", "AUTH", "AUTHORIZATION", "PASS", "PWD", "PW", "DSN", "COOKIE", "SIGNATURE"}
)
_NOT_SECRET_LAST = frozenset(
    {
        "ARN", "ARNS", "ID", "IDS", "NAME", "NAMES", "FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "HOST",
        "PORT", "ENABLED", "DISABLED", "TYPE", "REGION", "LENGTH", "TTL", "PARAMETER", "VERSION", "TIMEOUT",
        "EXPIRY", "EXPIRES", "EXPIRATION", "LIMIT", "SIZE", "COUNT", "PREFIX", "SUFFIX", "HEADER", "FORMAT",
        "ALGORITHM", "PROVIDER", "MODE", "ROTATION",
    }
)  # fmt: skip
_NOT_SECRET_KEY_KINDS = frozenset(
    {"PUBLIC", "PARTITION", "SORT", "PRIMARY", "RANGE", "HASH", "CACHE", "OBJECT", "ROUTING", "FOREIGN", "S3"}
)
_REFERENCE_KEYS = frozenset({"secrets", "secretOptions", "valueFrom"})  # ARNs of secrets, not secrets
_ENVIRONMENT = "environment"
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:)(?P<password>[^/\s@]+)(?=@)")
_PATH_SEGMENT = re.compile(r"\[([^\]]*)\]|([^.\[]+)")
_NOT_REMEMBERED = frozenset({"enabled", "disabled", "required", "optional", "changeme"})


def is_secret_name(name: str) -> bool:
    """True when a variable, option or field called ``name`` looks like it holds a secret (rule above)."""
    words = [word.upper() for word in _WORDS.findall(name)]
    if not words or words[-1] in _NOT_SECRET_LAST:
        return False
    squashed = "".join(words)
    if any(part in squashed for part in _SUBSTRINGS):
        return True
    last = words[-1]
    if last not in _LAST_WORDS or words == ["PWD"]:
        return False
    return not (last == "KEY" and any(word in _NOT_SECRET_KEY_KINDS for word in words[:-1]))


def has_url_credentials(value: object) -> bool:
    """``postgres://user:password@host/db``: a URL that carries a password."""
    return isinstance(value, str) and _URL_CREDENTIALS.search(value) is not None


def is_secret_entry(name: str, value: object) -> bool:
    """An environment entry that must not be printed: a secret-looking name, or a URL with a password."""
    return is_secret_name(name) or has_url_credentials(value)


def fingerprint(value: object) -> str:
    """The first 8 hex digits of the value's SHA-256: tells two values apart without showing either."""
    return hashlib.sha256(str(value).encode()).hexdigest()[:8]


def masked(value: object) -> str:
    """What is shown instead of a secret value."""
    return MASK_FORMAT.format(fingerprint(value))


def is_masked(value: object) -> bool:
    return isinstance(value, str) and value.startswith(MASK_MARKER)


# --- masking by structure ------------------------------------------------------------------------------------


def mask_at(path: str, value: Any) -> Any:
    """``value`` as it may be shown at ``path`` (a plan diff path such as
    ``taskDefinition.containerDefinitions[app].environment[DB_PASSWORD]``): masked when the path ends at a
    secret-looking key, else masked within (``mask_tree``). Every value masked is remembered."""
    segments = [bracketed or plain for bracketed, plain in _PATH_SEGMENT.findall(path)]
    if any(segment in _REFERENCE_KEYS for segment in segments):
        return mask_tree(value, parent="secrets")
    last = segments[-1] if segments else ""
    parent = segments[-2] if len(segments) > 1 else ""
    if isinstance(value, str) and _is_secret_field(last, value, parent=parent):
        return _mask_and_remember(value)
    return mask_tree(value, parent=last)


def mask_tree(value: Any, *, parent: str = "") -> Any:
    """A copy of ``value`` with every string under a secret-looking key masked (canonical ``{"[NAME]": v}``
    maps and request-shaped ``[{"name": NAME, "value": v}]`` lists alike), and known secrets replaced in every
    other string. ``parent`` is the key ``value`` sits under."""
    if isinstance(value, Mapping):
        return _mask_mapping(value, parent=parent)
    if isinstance(value, list | tuple):
        return [mask_tree(item, parent=parent) for item in value]
    if isinstance(value, str):
        return KNOWN_SECRETS.redact(value)
    return value


def _mask_mapping(mapping: Mapping[Any, Any], *, parent: str) -> dict[Any, Any]:
    if parent in _REFERENCE_KEYS:
        return dict(mapping)
    name, value = mapping.get("name"), mapping.get("value")
    if isinstance(name, str) and isinstance(value, str) and _is_secret_field(name, value, parent=parent):
        return {**mapping, "value": _mask_and_remember(value)}  # an entry [{name, value}]
    result: dict[Any, Any] = {}
    for key, item in mapping.items():
        name = _unbracket(str(key))
        if isinstance(item, str) and _is_secret_field(name, item, parent=parent):
            result[key] = _mask_and_remember(item)
        else:
            result[key] = mask_tree(item, parent=str(key))
    return result


def _is_secret_field(name: str, value: str, *, parent: str) -> bool:
    if parent in _REFERENCE_KEYS or name in _REFERENCE_KEYS or not value or is_masked(value):
        return False
    if is_secret_name(name):
        return True
    return parent == _ENVIRONMENT and has_url_credentials(value)


def _unbracket(key: str) -> str:
    return key[1:-1] if key.startswith("[") and key.endswith("]") else key


def _mask_and_remember(value: str) -> str:
    KNOWN_SECRETS.add([value])
    return masked(value)


# --- environment entries of a task definition ----------------------------------------------------------------


class SecretSetting(NamedTuple):
    """A secret-looking value written in clear in a task definition ``spec`` (request shape)."""

    container: str
    where: str  # "environment" or "logConfiguration.options"
    name: str
    value: str
    path: str  # in ``spec``: ``containerDefinitions[0].environment[2].value``


def secret_settings(spec: Mapping[str, Any]) -> Iterator[SecretSetting]:
    """Every secret-looking ``environment`` value and log driver option of a TaskDefinition ``spec``."""
    containers = spec.get("containerDefinitions")
    for index, container in enumerate(containers if isinstance(containers, list) else []):
        if not isinstance(container, Mapping):
            continue
        name = str(container.get("name", index))
        prefix = f"containerDefinitions[{index}]"
        environment = container.get("environment")
        for position, entry in enumerate(environment if isinstance(environment, list) else []):
            if not isinstance(entry, Mapping):
                continue
            variable, value = entry.get("name"), entry.get("value")
            if (
                isinstance(variable, str)
                and isinstance(value, str)
                and value
                and is_secret_entry(variable, value)
            ):
                path = f"{prefix}.environment[{position}].value"
                yield SecretSetting(name, "environment", variable, value, path)
        log_config = container.get("logConfiguration")
        options = log_config.get("options") if isinstance(log_config, Mapping) else None
        for option, value in options.items() if isinstance(options, Mapping) else ():
            if isinstance(value, str) and value and is_secret_name(str(option)):
                path = f"{prefix}.logConfiguration.options.{option}"
                yield SecretSetting(name, "logConfiguration.options", str(option), value, path)


# --- masking by value ----------------------------------------------------------------------------------------


class KnownSecrets:
    """The secret values seen so far in this process; ``redact`` replaces them in free text. Values are only
    ever added (an old value of a rotated secret is still a secret). Safe to use from several threads."""

    def __init__(self) -> None:
        self._values: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        new = {v for value in values for v in _searchable(value)} - self._values
        if not new:
            return
        with self._lock:
            values_now = self._values | new
            by_length = sorted(values_now, key=len, reverse=True)  # the longest first: no partial masks
            self._pattern = re.compile("|".join(re.escape(value) for value in by_length))
            self._values = values_now

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        """``text`` with every known secret, and every password in a URL, masked."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(lambda match: masked(match.group(0)), text)
        return _URL_CREDENTIALS.sub(lambda match: match.group("head") + masked(match.group("password")), text)

    def clear(self) -> None:
        """Forget every value (tests)."""
        with self._lock:
            self._values, self._pattern = frozenset(), None


def _searchable(value: str) -> list[str]:
    """The strings of a secret value worth looking for in free text: itself, and the password of a URL."""
    found = [value, *(match.group("password") for match in _URL_CREDENTIALS.finditer(value))]
    return [v for v in found if len(v) >= MIN_KNOWN_LENGTH and v.lower() not in _NOT_REMEMBERED]


KNOWN_SECRETS = KnownSecrets()


def redact(text: str) -> str:
    """Free text (an error message, a log line) with every known secret masked."""
    return KNOWN_SECRETS.redact(text)
