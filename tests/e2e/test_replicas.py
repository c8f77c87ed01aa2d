"""Several replicas on one lease table, as ECS runs them during a rolling deployment: the leader is
killed (SIGKILL) or paused past its lease (SIGSTOP, then SIGCONT) again and again while someone keeps changing
AWS by hand, so the leader of the moment keeps correcting. The fault proxy's write log (every write that reached
the emulator, with the replica that sent it) must never show two replicas writing in one lease: between the last
write of one replica and the first write of the next there is a gap, and no replica writes again after another
has started until it has taken the lease back.

RECONCILER_CHAOS_CHANGES sets how many leader changes (4 in the suite; 50 were run for the closing note)."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import FaultRules
from reconciler.sandbox.faults import FaultProxyProcess, WriteRecord
from tests.conftest import BotoFactory
from tests.e2e.conftest import Drifter, Estate
from tests.e2e.test_daemon import free_port

LEASE, RENEW = 3.0, 1.0
CHANGES = int(os.environ.get("RECONCILER_CHAOS_CHANGES", "4"))


@dataclass
class Replica:
    name: str
    port: int
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, log_dir: Path) -> None:
        self.log = log_dir / f"{self.name}-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)

    def rename(self, name: str) -> None:
        self.command[self.command.index("--replica-id") + 1] = name
        self.name = name

    def is_leader(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as response:
                text = response.read().decode()
        except OSError:
            return False
        found = re.search(r"^reconciler_leader (\S+)$", text, re.MULTILINE)
        return bool(found and float(found.group(1)) == 1.0)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def proxy(emulator: EmulatorProcess, aws: str) -> Iterator[FaultProxyProcess]:
    with FaultProxyProcess.start(emulator.url, FaultRules(seed=3)) as process:
        yield process


def _replicas(count: int, converged: Estate, proxy: FaultProxyProcess) -> list[Replica]:
    replicas = []
    for index in range(count):
        port = free_port()
        command = [
            sys.executable, "-m", "reconciler", "run", *converged.args(), "--listen", f"127.0.0.1:{port}",
            "--endpoint-url", proxy.url, "--interval", "0.5", "--lease-table", "leases",
            "--lease-duration", str(LEASE), "--lease-renew", str(RENEW), "--replica-id", f"r{index}",
            "--log-format", "json",
        ]  # fmt: skip
        replicas.append(Replica(name=f"r{index}", port=port, command=command))
    return replicas


def _leader(replicas: list[Replica], *, other_than: str = "", within: float = 3 * LEASE + 5) -> Replica:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        leaders = [r for r in replicas if r.name != other_than and r.is_leader()]
        if leaders:
            return leaders[0]
        time.sleep(0.1)
    raise AssertionError(f"no new leader within {within} s (previous: {other_than or 'none'})")


def _disrupt(replica: Replica, number: int, log_dir: Path) -> None:
    """Odd: kill it and start it again (a task replaced); even: pause it past its lease, then let it go on."""
    assert replica.process is not None
    if number % 2:  # a new task: a new name (ECS gives each task its own host name)
        replica.process.kill()
        replica.process.wait()
        replica.rename(f"{replica.name.split('-')[0]}-{number}")
        replica.start(log_dir)
    else:
        replica.process.send_signal(signal.SIGSTOP)
        time.sleep(LEASE + 1)
        replica.process.send_signal(signal.SIGCONT)


def _overlaps(writes: list[WriteRecord]) -> list[str]:
    """Writes of two replicas at once, and a replica writing again within a lease of its own last write with
    another replica's writes in between (two writers taking turns, which one lease never allows)."""
    ordered = sorted(writes, key=lambda w: w.started)
    runs: list[list[WriteRecord]] = []
    for write in ordered:
        if runs and runs[-1][0].caller == write.caller:
            runs[-1].append(write)
        else:
            runs.append([write])
    found = []
    for before, after in itertools.pairwise(runs):
        if after[0].started <= max(w.finished for w in before):
            found.append(f"{before[0].caller} and {after[0].caller} wrote at once")
    for first, second, third in zip(runs, runs[1:], runs[2:], strict=False):
        gap = third[0].started - first[-1].finished
        if first[0].caller == third[0].caller and gap < LEASE:
            found.append(
                f"{first[0].caller} wrote again {gap:.2f} s later, around {second[0].caller}'s writes"
            )
    return found


@pytest.mark.parametrize("count", [2, 3])
def test_replicas_never_write_at_once_across_leader_changes(
    count: int, converged: Estate, proxy: FaultProxyProcess, boto: BotoFactory, tmp_path: Path
) -> None:
    replicas = _replicas(count, converged, proxy)
    drifter = Drifter(boto, services=("wordpress",), every=0.4)
    thread = threading.Thread(target=drifter.run, daemon=True)
    try:
        for replica in replicas:
            replica.start(tmp_path)
        leader = _leader(replicas)
        thread.start()
        leaders = [leader.name]
        for number in range(CHANGES):
            time.sleep(1.5)  # the leader corrects the hand-made changes for a while
            disrupted = leader.name  # a killed replica comes back under a new name: it may lead again
            _disrupt(leader, number, tmp_path)
            leader = _leader(replicas, other_than=disrupted)
            leaders.append(leader.name)
        time.sleep(1.5)
    finally:
        drifter.stop.set()
        for replica in replicas:
            replica.stop()
    writes = [w for w in proxy.write_log() if w.service != "dynamodb" and w.reached_upstream]
    writers = [w.caller for w in sorted(writes, key=lambda w: w.started)]
    handovers = sum(1 for a, b in itertools.pairwise(writers) if a != b)
    assert handovers >= CHANGES // 2, (leaders, handovers)  # the leaders of the moment did write
    assert _overlaps(writes) == []
    assert {w.split("-")[0] for w in writers} <= {r.name.split("-")[0] for r in replicas}
