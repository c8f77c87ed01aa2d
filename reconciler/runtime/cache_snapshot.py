"""The caches a restarted process would otherwise read again from AWS, kept across restarts: the described task
definition revisions (``EcsReader``), the tags of the readers that keep them (``TagCache``) and the services'
deployment histories (``HealthReader``).

Without them a restarted daemon describes every running revision again before its first pass can see or correct
any drift (at 1000 services through AWS's rates and half the budget, a thousand DescribeTaskDefinition calls,
about 100 s), and lists every service's deployments again (``bench/cold_start.py``).

What is kept, and how far it is trusted:

- A revision's ARN names content that never changes, so a revision read back is used as is, as the process's own
  cache uses it.
- A tag is a hint. Tags read back enter the tag caches as not read this pass, so the check before any write that
  rests on them (``TagCache.still_current``) reads them from AWS again. None is refreshed in the first pass (the
  one a restart waits for), then a third each pass, as tags first seen: a tag edited by hand while no reconciler
  ran is seen within 4 passes, and before anything is written on it.
- A deployment history comes back with the signature of the service's deployments when it was read: it is read
  again when DescribeServices shows them changed since, as in the process that read it. Histories are not used
  for writes.

A snapshot is one zlib stream of JSON lines: a header (``FORMAT``, what revisions are trimmed of, the target's
identity, the reconciler's version), then one line per revision, cached tag set and history, then an end line
with the count. It is ignored, with a warning naming why, when its format or trimming is not this process's, when
it is another target's, or when it is truncated, corrupt or cannot be parsed: the pass then reads AWS as without
one. The format, not the reconciler's version, decides: a deploy of the reconciler is the restart that needs the
snapshot most, and ``FORMAT`` is raised when what a line means changes. It is loaded line by line into new
dictionaries that become the caches only once all of it was read (zlib's checksum at the end included), and
written line by line into compressed chunks: only the compressed bytes are ever held whole.

Where: with ``--lease-table``, in that DynamoDB table (``TableStore``: a head item naming the generation and its
chunk count, then one item per chunk of at most ``CHUNK_BYTES``, each keyed by the generation, so that a reader
never mixes chunks of two snapshots); else a file in ``--cache-dir`` (``DirectoryStore``: written to a temporary
file, then renamed over the last). Either is keyed by the target's identity.

When: after a full pass, only when a cache changed since the last write or the restore, and at most every
``SAVE_EVERY`` seconds; and once more when the daemon stops, if anything changed (a deploy of the reconciler is a
stop and a start). A write is a few DynamoDB calls (chunks 25 a call, the head, the old chunks' deletion),
bookkeeping that the write guard lets by; at most 6 an hour, against the lease's 360 renewals.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from reconciler import __version__
from reconciler.errors import NotFound, ReconcilerError
from reconciler.live.clients import AwsClients
from reconciler.live.ecs import UNREAD_REVISION_FIELDS, EcsReader
from reconciler.live.tag_cache import TagCache, Tags
from reconciler.model.history import DeploymentRecord
from reconciler.model.live import Described
from reconciler.model.shared_text import shared_strings, shared_text

if TYPE_CHECKING:  # the daemon's: ``plan`` and ``apply`` keep no histories, and do not import it
    from reconciler.live.health import HealthReader

log = structlog.get_logger(__name__)

FORMAT = 1  # what a line means; a snapshot of another format is ignored. Raise it when that changes.
# What cached revisions are trimmed of: a snapshot trimmed otherwise would be compared as if it were not.
TRIMMED = sorted(UNREAD_REVISION_FIELDS)
SAVE_EVERY = 600.0  # seconds between two writes, at most one each
STORE_WITHIN = 10.0  # seconds a read or write of the store may take (DynamoDB's retries): then it is given up
CHUNK_BYTES = 300_000  # of compressed snapshot per DynamoDB item (an item holds at most 400 KB)
BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit
BATCH_GET = 100  # DynamoDB's BatchGetItem limit
TIME = "$time"  # a line's {"$time": ISO 8601} is a datetime
DECOMPRESSED_BYTES = 1 << 16  # decompressed at a time while loading


# Service name → its deployments, newest first, and their signature when read (``live/health.py``)
Histories = dict[str, tuple[tuple[DeploymentRecord, ...], tuple[Any, ...]]]


class Unusable(ReconcilerError):
    """A snapshot that must not be trusted; the message says why."""


class SnapshotStore(Protocol):
    """Where the compressed snapshot of one target is kept. ``aws_only``: used only by an engine whose clients talk
    to AWS itself (``Engine.restore_caches``), not to an emulator, which after a restart gives the same task
    definition ARNs to other content."""

    aws_only: bool

    @property
    def where(self) -> str:
        """For logs: the file or table."""

    async def load(self, identity: str) -> list[bytes] | None:
        """The compressed chunks of ``identity``'s snapshot, in order; None when there is none. Raises
        ``Unusable`` when what is stored is incomplete."""

    async def save(self, identity: str, chunks: list[bytes]) -> None:
        """Replace ``identity``'s snapshot with ``chunks``."""


class DirectoryStore:
    """One file per target in a directory (``--cache-dir``), replaced whole by a rename. ``scope`` keeps apart
    what several users of one directory keep of the same target (the daemon's snapshot, and the revisions of
    ``plan`` and ``apply`` against one endpoint).

    The directory is created readable by its owner only, and a file is trusted only if it and its directory are
    this user's and writable by nobody else: in a shared ``/tmp``, another user could otherwise plant revisions
    that a plan would take for AWS's."""

    def __init__(self, directory: Path, *, scope: str = "", aws_only: bool = False) -> None:
        self.directory = directory
        self.scope = scope
        self.aws_only = aws_only

    @property
    def where(self) -> str:
        return str(self.directory)

    def path(self, identity: str) -> Path:
        key = f"{self.scope}\n{identity}" if self.scope else identity
        return self.directory / f"caches-{hashlib.sha256(key.encode()).hexdigest()[:16]}.zlib"

    async def load(self, identity: str) -> list[bytes] | None:
        try:
            return [await asyncio.to_thread(self._read, self.path(identity))]
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise Unusable(f"cannot be read: {exc.strerror or exc}") from None

    def _read(self, path: Path) -> bytes:
        for checked in (self.directory, path):
            mode = checked.stat()
            if mode.st_uid != os.getuid() or mode.st_mode & 0o022:
                raise Unusable(f"{checked} is another user's, or others may write it: not trusted")
        return path.read_bytes()

    async def save(self, identity: str, chunks: list[bytes]) -> None:
        await asyncio.to_thread(self._write, self.path(identity), chunks)

    def _write(self, target: Path, chunks: list[bytes]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.directory, prefix=target.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            Path(name).replace(target)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(name).unlink()
            raise


class TableStore:
    """Items of the lease table (``--lease-table``): ``cache#<identity>`` names the current generation and its
    chunk count; ``cache#<identity>#<generation>#<n>`` holds chunk n. The chunks are written before the head that
    names them, and the previous generation's deleted after it, so a reader finds either a whole snapshot or a
    missing chunk (a write raced it: ignored), never a mix."""

    aws_only = False  # the table lives where the clients are: an emulator's is gone with it

    def __init__(self, clients: AwsClients, table: str) -> None:
        self._clients = clients
        self.table = table

    @property
    def where(self) -> str:
        return f"table {self.table}"

    @staticmethod
    def _head(identity: str) -> dict[str, Any]:
        return {"pk": {"S": f"cache#{identity}"}}

    @staticmethod
    def _chunk(identity: str, generation: str, number: int) -> dict[str, Any]:
        return {"pk": {"S": f"cache#{identity}#{generation}#{number}"}}

    async def load(self, identity: str) -> list[bytes] | None:
        dynamodb = await self._clients.client("dynamodb")
        try:
            answer = await dynamodb.get_item(
                TableName=self.table, Key=self._head(identity), ConsistentRead=True
            )
        except NotFound:  # no table yet: the lease creates it
            return None
        head = answer.get("Item")
        if head is None:
            return None
        try:
            generation, count = head["generation"]["S"], int(head["chunks"]["N"])
        except (KeyError, ValueError):
            raise Unusable("its head item names no generation and chunk count") from None
        keys = [self._chunk(identity, generation, n) for n in range(count)]
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), BATCH_GET):
            wanted: dict[str, Any] = {
                self.table: {"Keys": keys[start : start + BATCH_GET], "ConsistentRead": True}
            }
            while wanted:
                answer = await dynamodb.batch_get_item(RequestItems=wanted)
                for item in answer.get("Responses", {}).get(self.table, []):
                    found[item["pk"]["S"]] = bytes(item["data"]["B"])
                wanted = answer.get("UnprocessedKeys") or {}
        chunks = [found.get(key["pk"]["S"]) for key in keys]
        if any(chunk is None for chunk in chunks):
            missing = sum(chunk is None for chunk in chunks)
            raise Unusable(f"{missing} of the {count} chunks of generation {generation} are missing")
        return [chunk for chunk in chunks if chunk is not None]

    async def save(self, identity: str, chunks: list[bytes]) -> None:
        dynamodb = await self._clients.client("dynamodb")
        generation = uuid.uuid4().hex[:12]
        puts = [
            {"PutRequest": {"Item": {**self._chunk(identity, generation, n), "data": {"B": chunk}}}}
            for n, chunk in enumerate(chunks)
        ]
        await self._batch_write(dynamodb, puts)
        old = await dynamodb.put_item(
            TableName=self.table,
            Item={
                **self._head(identity),
                "generation": {"S": generation},
                "chunks": {"N": str(len(chunks))},
                "format": {"N": str(FORMAT)},
                "written": {"N": f"{time.time():.3f}"},
            },
            ReturnValues="ALL_OLD",
        )
        previous = old.get("Attributes") or {}
        with contextlib.suppress(KeyError, ValueError):
            gone, count = previous["generation"]["S"], int(previous["chunks"]["N"])
            deletes = [{"DeleteRequest": {"Key": self._chunk(identity, gone, n)}} for n in range(count)]
            await self._batch_write(dynamodb, deletes)

    async def _batch_write(self, dynamodb: Any, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE):
            pending: dict[str, Any] = {self.table: requests[start : start + BATCH_WRITE]}
            while pending:
                answer = await dynamodb.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}


class CacheSnapshot:
    """The engine's caches (``ecs``, and each tag cache by name) kept in ``store`` under ``identity``."""

    def __init__(
        self,
        store: SnapshotStore,
        *,
        identity: str,
        ecs: EcsReader,
        tags: Mapping[str, TagCache],
        health: HealthReader | None = None,
        every: float = SAVE_EVERY,
        within: float = STORE_WITHIN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.identity = identity
        self._ecs = ecs
        self._tags = dict(tags)
        self._health = health
        self._every = every
        self._within = within
        self._clock = clock
        self._saved = self._versions()  # the caches' versions when last written or restored
        self._saved_at: float | None = None

    def _versions(self) -> tuple[int, ...]:
        health = self._health.version if self._health is not None else 0
        return (self._ecs.version, health, *(cache.version for _, cache in sorted(self._tags.items())))

    @property
    def changed(self) -> bool:
        return self._versions() != self._saved

    async def restore(self) -> bool:
        """Fill the caches from the stored snapshot; False (with a warning when one was found but not trusted)
        when there is none to use."""
        try:
            async with asyncio.timeout(self._within):  # the first pass waits for it: never for long
                chunks = await self.store.load(self.identity)
            if chunks is None:
                log.info("no cache snapshot", where=self.store.where)
                return False
            revisions, tags, histories = self._parsed(chunks)
        except Unusable as exc:
            log.warning(
                "cache snapshot ignored", reason=str(exc), where=self.store.where, identity=self.identity
            )
            return False
        except Exception as exc:  # the store could not be reached: read AWS as without one
            why = f"no answer within {self._within:g} s" if isinstance(exc, TimeoutError) else exc
            log.warning(
                "cache snapshot ignored",
                reason=f"cannot be read: {type(exc).__name__}: {why}",
                where=self.store.where,
                identity=self.identity,
            )
            return False
        self._ecs.restore(revisions)
        for name, cache in self._tags.items():
            cache.restore(tags.get(name, {}))
        if self._health is not None:
            self._health.restore(histories)
        self._saved = self._versions()
        log.info(
            "cache snapshot restored",
            where=self.store.where,
            revisions=len(revisions),
            tags=sum(len(t) for t in tags.values()),
            histories=len(histories),
        )
        return True

    async def save(self, *, now: bool = False) -> bool:
        """Write the snapshot if a cache changed since the last write (or restore) and, unless ``now``, the
        last write is ``every`` seconds old; True if written. Never raises: a failed write is logged, and tried
        again after the next full pass (``write``)."""
        if not self.changed:
            return False
        at = self._clock()
        if not now and self._saved_at is not None and at - self._saved_at < self._every:
            return False
        return await self.write()

    async def write(self) -> bool:
        """Write the snapshot now, changed or not; True if written. Never raises."""
        at, versions = self._clock(), self._versions()
        try:
            async with asyncio.timeout(self._within):
                await self.store.save(self.identity, list(self._chunks()))
        except Exception as exc:
            log.warning(
                "cache snapshot not written", error=f"{type(exc).__name__}: {exc}", where=self.store.where
            )
            return False
        self._saved, self._saved_at = versions, at
        return True

    # --- the format ------------------------------------------------------------------------------------------

    def _lines(self) -> Iterator[dict[str, Any]]:
        yield {"format": FORMAT, "trimmed": TRIMMED, "identity": self.identity, "reconciler": __version__}
        count = 0
        for revision in self._ecs.revisions():
            count += 1
            yield {"revision": {k: v for k, v in revision.items() if k not in UNREAD_REVISION_FIELDS}}
        for name, cache in sorted(self._tags.items()):
            for arn, tags in cache.entries():
                count += 1
                yield {"tags": name, "arn": arn, "values": tags}
        for name, history, signature in self._health.kept() if self._health is not None else ():
            count += 1
            records = [dataclasses.asdict(record) for record in history]
            yield {"history": name, "signature": list(signature), "records": records}
        yield {"end": count}

    def _chunks(self) -> Iterator[bytes]:
        """The compressed snapshot in pieces of ``CHUNK_BYTES``, made line by line."""
        compressor = zlib.compressobj(level=6)
        pending = bytearray()
        for line in self._lines():
            pending += compressor.compress(
                json.dumps(line, separators=(",", ":"), default=_encoded).encode() + b"\n"
            )
            while len(pending) >= CHUNK_BYTES:
                yield bytes(pending[:CHUNK_BYTES])
                del pending[:CHUNK_BYTES]
        pending += compressor.flush()
        for start in range(0, len(pending), CHUNK_BYTES):
            yield bytes(pending[start : start + CHUNK_BYTES])

    def _parsed(
        self, chunks: Iterable[bytes]
    ) -> tuple[dict[str, Described], dict[str, dict[str, Tags]], Histories]:
        """The snapshot's revisions, tags and deployment histories, or ``Unusable``."""
        revisions: dict[str, Described] = {}
        tags: dict[str, dict[str, Tags]] = {}
        histories: Histories = {}
        lines = (_record(line) for line in _decompressed_lines(chunks))
        header = next(lines, None)
        if header is None:
            raise Unusable("truncated: empty")
        self._check_header(header)
        for count, record in enumerate(lines):
            if "revision" in record:
                revision = record["revision"]
                if not isinstance(revision, dict) or not isinstance(revision.get("taskDefinitionArn"), str):
                    raise Unusable("unparseable: a revision without its ARN")
                revisions[revision["taskDefinitionArn"]] = shared_strings(revision)
            elif "tags" in record:
                arn, values = record.get("arn"), record.get("values")
                if not isinstance(arn, str) or not isinstance(values, dict):
                    raise Unusable("unparseable: tags without their ARN")
                shared = {shared_text(str(k)): shared_text(str(v)) for k, v in values.items()}
                tags.setdefault(str(record["tags"]), {})[arn] = shared
            elif "history" in record:
                histories[str(record["history"])] = _history(record)
            elif "end" in record:
                if record["end"] != count or next(lines, None) is not None:
                    raise Unusable(f"unparseable: its end says {record['end']} entries, not {count}")
                return revisions, tags, histories
            else:
                raise Unusable("unparseable: a line of no known kind")
        raise Unusable("truncated: it ends before its last line")

    def _check_header(self, header: dict[str, Any]) -> None:
        written_by = header.get("reconciler", "an unknown version")
        if header.get("format") != FORMAT:
            raise Unusable(
                f"written in format {header.get('format')!r} (by reconciler {written_by}); this one reads {FORMAT}"
            )
        if header.get("trimmed") != TRIMMED:
            raise Unusable(f"its revisions are trimmed of other fields (written by reconciler {written_by})")
        if header.get("identity") != self.identity:
            raise Unusable(f"it is another target's: {header.get('identity')!r}")


def _history(record: dict[str, Any]) -> tuple[tuple[DeploymentRecord, ...], tuple[Any, ...]]:
    try:
        history = tuple(DeploymentRecord(**shared_strings(r)) for r in record["records"])
        return history, _tupled(record["signature"])
    except (KeyError, TypeError) as exc:
        raise Unusable(f"unparseable: a deployment history: {exc}") from None


def _tupled(value: list[Any]) -> tuple[Any, ...]:
    """A signature as it was: JSON keeps its tuples as lists."""
    return tuple(_tupled(item) if isinstance(item, list) else item for item in value)


def _encoded(value: object) -> object:
    """What JSON has no type for in a described revision: its times (``deregisteredAt``)."""
    if isinstance(value, datetime.datetime):
        return {TIME: value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not kept in a snapshot")


def _decoded(value: dict[str, Any]) -> Any:
    if len(value) == 1 and isinstance(value.get(TIME), str):
        return datetime.datetime.fromisoformat(value[TIME])
    return value


def _record(line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line, object_hook=_decoded)
    except ValueError:
        raise Unusable("unparseable: a line is not JSON") from None
    if not isinstance(record, dict):
        raise Unusable("unparseable: a line is not an object")
    return record


def _decompressed_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of the zlib stream in ``chunks``, one at a time, decompressed ``DECOMPRESSED_BYTES`` at a time;
    ``Unusable`` when the stream is corrupt or ends early."""
    decompressor = zlib.decompressobj()
    pending = b""
    try:
        for chunk in chunks:
            if decompressor.eof:
                raise Unusable("unparseable: bytes after its end")
            data = chunk
            while data and not decompressor.eof:
                pending += decompressor.decompress(data, DECOMPRESSED_BYTES)
                data = decompressor.unconsumed_tail
                *lines, pending = pending.split(b"\n")
                yield from lines
            if decompressor.unused_data:
                raise Unusable("unparseable: bytes after its end")
    except zlib.error as exc:
        raise Unusable(f"corrupt: {exc}") from None
    if not decompressor.eof:
        raise Unusable("truncated: its compressed stream ends early")
    if pending:
        yield pending
