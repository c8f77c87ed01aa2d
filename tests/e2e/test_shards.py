"""Sharding (``--shards auto``): three replicas on one lease table split the estate. While services are
changed by hand again and again, every resource is corrected by exactly one replica; killing that replica moves
its share to the others within about one lease period, and a resource's corrections never interleave between
replicas. The replicas' own logs ("applied", with kind, name and time) say who wrote what."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.conftest import BotoFactory
from tests.e2e.conftest import Drifter, Estate
from tests.e2e.test_daemon import free_port

LEASE, RENEW = 3.0, 1.0
DRIFTED = ("wordpress", "scorekeep-frontend", "scorekeep-api")


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def gauge(self, metric: str) -> float:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as response:
                text = response.read().decode()
        except OSError:
            return -1.0
        found = re.search(rf"^{metric} (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else -1.0

    def corrections(self) -> list[tuple[float, str]]:
        """(time, service name) of each Service this replica applied."""
        found = []
        for line in self.log.read_text().splitlines():
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            if event.get("event") == "applied" and event.get("kind") == "Service":
                stamp = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
                found.append((stamp, event["name"]))
        return found


def _start(index: int, estate: Estate, tmp_path: Path) -> Replica:
    port, name = free_port(), f"r{index}"
    command = [
        sys.executable, "-m", "reconciler", "run", *estate.args(), "--listen", f"127.0.0.1:{port}",
        "--interval", "0.5", "--lease-table", "shards", "--shards", "auto", "--lease-duration", str(LEASE),
        "--lease-renew", str(RENEW), "--replica-id", name, "--log-format", "json",
    ]  # fmt: skip
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    return Replica(name, port, process, log)


def _wait_for_split(replicas: list[Replica], *, within: float = 20.0) -> None:
    """Every live replica holds some shards, and together all 16 exactly."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        held = [r.gauge("reconciler_shards_held") for r in replicas]
        if all(h > 0 for h in held) and sum(held) == 16:
            return
        time.sleep(0.2)
    raise AssertionError(f"shards not split: {[r.gauge('reconciler_shards_held') for r in replicas]}")


def _writers(replicas: list[Replica], since: float, until: float) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for replica in replicas:
        for stamp, service in replica.corrections():
            if since <= stamp <= until:
                found[service].add(replica.name)
    return found


def test_three_replicas_split_the_estate_and_a_lost_ones_share_moves(
    converged: Estate, boto: BotoFactory, tmp_path: Path
) -> None:
    replicas = [_start(i, converged, tmp_path) for i in range(3)]
    drifter = Drifter(boto, services=DRIFTED, every=0.5)
    thread = threading.Thread(target=drifter.run, daemon=True)
    try:
        _wait_for_split(replicas)
        thread.start()
        settled = time.time()
        time.sleep(6)
        stable = _writers(replicas, settled, time.time())
        assert set(stable) == set(DRIFTED), stable  # every hand-made change was corrected...
        assert all(len(names) == 1 for names in stable.values()), stable  # ...by exactly one replica
        victim = next(r for r in replicas if r.name in stable["wordpress"])
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        killed = time.time()
        survivors = [r for r in replicas if r is not victim]
        _wait_for_split(survivors, within=3 * LEASE + 5)
        time.sleep(4)
        after = _writers(survivors, killed, time.time())
        assert set(after) == set(DRIFTED) and all(len(names) == 1 for names in after.values()), after
        moved = min(s for r in survivors for s, name in r.corrections() if name == "wordpress" and s > killed)
        last_by_victim = max(s for s, name in victim.corrections() if name == "wordpress")
        assert (
            moved - last_by_victim >= LEASE * 0.5
        )  # the new writer waited for the victim's lease to run out
        assert moved - killed <= 2 * LEASE + 2  # and took over within about one lease period
    finally:
        drifter.stop.set()
        for replica in replicas:
            if replica.process.poll() is None:
                replica.process.terminate()
                replica.process.wait(timeout=15)
