"""The production-like stack the 08:00 rush runs against, all on this machine.

A throwaway `redis-server`, N `ajira serve` processes (the replicas a load balancer would
spread over), one `ajira worker` and `ajira beat` with `REDIS_URL` set, so notifications
go through Celery as in production, and Africa's Talking's SMS API as the local stand-in
of the tests, recording which `messageId` it gave each message it took.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from _common import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' stand-ins

from tests.fakes import africastalking_server as at

AJIRA = Path(sys.executable).with_name("ajira")


@dataclass(frozen=True, slots=True)
class Taken:
    """One message the stand-in accepted: to whom, what, its messageId, and when."""

    to: str
    message: str
    message_id: str
    at: float


@dataclass
class RecordingAfricasTalking(at.FakeAfricasTalking):
    """The tests' stand-in, also keeping the messageId it answered for each message."""

    taken: list[Taken] = field(default_factory=list)

    def _next(self, form: dict[str, str]) -> at.Answer:
        answer = super()._next(form)
        if answer.status == 201:
            recipients = json.loads(answer.body)["SMSMessageData"]["Recipients"]
            with self.lock:
                self.taken.extend(
                    Taken(r["number"], form.get("message", ""), r["messageId"], time.perf_counter())
                    for r in recipients
                )
        return answer

    def taken_so_far(self) -> list[Taken]:
        with self.lock:
            return list(self.taken)


@contextmanager
def africastalking() -> Iterator[RecordingAfricasTalking]:
    """The SMS API stand-in on a free loopback port."""
    with at.running(RecordingAfricasTalking()) as state:
        assert isinstance(state, RecordingAfricasTalking)
        yield state


def at_env(base_url: str) -> dict[str, str]:
    """Africa's Talking settings pointing the SDK at the stand-in (as the tests' `at_env`)."""
    return {
        "AT_USERNAME": "ajira-bench",
        "AT_API_KEY": "atsk_bench_only_not_a_real_key",
        "AT_SENDER_ID": "AJIRA",
        "AT_API_BASE_URL": base_url,
    }


class Process:
    """One of our commands in a subprocess, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = logs / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - our own CLI from this virtualenv
            self.argv, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
        return self.proc.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Died(RuntimeError):
    """A process of the stack exited while it was awaited."""


def _wait(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    """Until `check()` is truthy; anything it raises but `Died` means not up yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Died:
            raise
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up in {timeout:g} s")


@contextmanager
def redis_server(logs: Path) -> Iterator[str]:
    """A throwaway `redis-server` on a free loopback port, no persistence; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    import redis

    port = free_port()
    data = logs / "redis"
    data.mkdir(exist_ok=True)
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(data)]  # fmt: skip
    process = Process("redis", argv, {}, logs)
    process.start()
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        _wait(client.ping, "redis-server", timeout=10)
        yield url
    finally:
        client.close()
        process.stop(timeout=5)


@dataclass
class Stack:
    """The running processes, and where to reach the API replicas."""

    servers: list[Process]
    bases: list[str]
    worker: Process
    beat: Process | None
    env: dict[str, str]
    logs: Path

    def processes(self) -> list[Process]:
        return [*self.servers, self.worker, *([self.beat] if self.beat else [])]

    def problems_in_logs(self) -> dict[str, list[str]]:
        """Lines of each log that say something went wrong (a traceback, an error)."""
        found: dict[str, list[str]] = {}
        for process in self.processes():
            lines = [
                line
                for line in process.log_text().splitlines()
                if "Traceback" in line or "ERROR" in line or "CRITICAL" in line
            ]
            if lines:
                found[process.name] = lines
        return found


def _worker_ready(redis_url: str) -> bool:
    from celery import Celery

    probe = Celery("rush-probe", broker=redis_url)
    try:
        return bool(probe.control.ping(timeout=0.5))
    finally:
        probe.close()


@contextmanager
def stack(
    env: dict[str, str], logs: Path, *, servers: int, concurrency: int, beat: bool
) -> Iterator[Stack]:
    """Start the API replicas, the worker and the beat; stop them all at the end."""
    with ExitStack() as stop:
        replicas = []
        for n in range(servers):
            port = free_port()
            process = Process(f"serve-{n}", [str(AJIRA), "serve", "--port", str(port)], env, logs)
            process.start()
            stop.callback(process.stop)
            replicas.append((process, f"http://127.0.0.1:{port}"))
        worker = Process(
            "worker",
            [str(AJIRA), "worker", "--concurrency", str(concurrency), "--loglevel", "WARNING"],
            env,
            logs,
        )
        worker.start()
        stop.callback(worker.stop)
        scheduler = None
        if beat:
            scheduler = Process("beat", [str(AJIRA), "beat", "--loglevel", "WARNING"], env, logs)
            scheduler.start()
            stop.callback(scheduler.stop)
        for process, base in replicas:

            def healthy(base: str = base, process: Process = process) -> bool:
                if not process.alive():
                    raise Died(f"{process.name} exited:\n{process.log_text()[-2000:]}")
                return httpx.get(base + "/healthz", timeout=1).status_code == 200

            _wait(healthy, process.name)
        _wait(lambda: _worker_ready(env["REDIS_URL"]), "ajira worker")
        yield Stack(
            [p for p, _ in replicas], [b for _, b in replicas], worker, scheduler, env, logs
        )


def run_command(env: dict[str, str], *args: str, timeout: float = 120) -> tuple[int, str]:
    """Run `ajira <args>` to the end; its exit code and output."""
    done = subprocess.run(  # noqa: S603 - our own CLI from this virtualenv
        [str(AJIRA), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.returncode, done.stdout + done.stderr
