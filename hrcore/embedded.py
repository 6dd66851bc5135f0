"""Keeping the embedded PostgreSQL (the `pgserver` wheel) up while Ajira runs.

`hrcore.db.start_embedded_postgres` starts the server (or attaches to the one already
running on the data directory) and registers it here; `EmbeddedSupervisor` watches its
postmaster from a long-running process and starts it again when it dies, so the API
comes back without being restarted by hand.

pgserver offers no public way to restart a server, so the supervisor does what its own
`get_server` does (pgserver is pinned below 0.2 in pyproject): under the cross-process
lock it takes to start or stop a server, `ensure_pgdata_inited` and
`ensure_postgres_running`; and it reads pgserver's list of the processes holding it.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Self

import psutil
import structlog

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

log = structlog.get_logger("ajira.db")

#: Servers this process started or attached to, by data directory.
_servers: dict[Path, PostgresServer] = {}

CHECK_INTERVAL_S = 1.0
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 30.0
#: Up this long after a restart, the next outage starts the backoff from the beginning.
STABLE_S = 60.0


def pgdata_dir(data_dir: Path) -> Path:
    """Where the PostgreSQL cluster of an Ajira data directory lives."""
    return data_dir.resolve() / "pg"


def register(server: PostgresServer) -> None:
    """Note a server this process started or attached to, so that it can be supervised."""
    _servers[server.pgdata] = server


def backoff(first: float = FIRST_RETRY_S, maximum: float = MAX_RETRY_S) -> Iterator[float]:
    """Delays between restart attempts: doubling from `first`, never above `maximum`."""
    delay = first
    while True:
        yield min(delay, maximum)
        delay = min(delay * 2, maximum)


class NotRestarted(Exception):
    """The postmaster could not be started again yet; the supervisor retries later."""


class EmbeddedSupervisor:
    """Restart the embedded postmaster of `data_dir` whenever it dies.

    It only looks after a server this process started or attached to (`register`),
    and never starts one on its own: a process that has not used the database yet has
    nothing to supervise. Every start happens under pgserver's cross-process lock and
    only when no process of the old server is left, so two postmasters never share
    the data directory, even when several Ajira processes supervise the same one.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        interval: float = CHECK_INTERVAL_S,
        first_retry: float = FIRST_RETRY_S,
        max_retry: float = MAX_RETRY_S,
    ) -> None:
        self.pgdata = pgdata_dir(data_dir)
        self.interval = interval
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.restarts = 0
        self._delays: Iterator[float] | None = None
        self._restarted_at = 0.0
        self._stopping = threading.Event()
        self._mutex = threading.Lock()
        self._thread: threading.Thread | None = None
        self._exit_hook = False

    def start(self) -> Self:
        """Watch the postmaster from a daemon thread until `stop`."""
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="ajira-embedded-postgres", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop watching, waiting for a restart in progress to finish."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if self._exit_hook:
            atexit.unregister(self.stop)
            self._exit_hook = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.check()
            except Exception:
                # The watch must outlive any surprise; the next round tries again.
                log.exception("embedded_postgres_supervisor_failed", data_dir=str(self.pgdata))

    def check(self) -> bool:
        """One round: restart the postmaster if it is gone. False if it stays down."""
        server = _servers.get(self.pgdata)
        if server is None:
            return True
        if not _holds(server):
            # pgserver let go of it (its exit hook ran, or `cleanup`): nothing to look after.
            _servers.pop(self.pgdata, None)
            return True
        if not self._exit_hook:
            # Registered after pgserver's own exit hook, so it runs first: the watch
            # must end before pgserver stops the server, or it would start it again.
            atexit.register(self.stop)
            self._exit_hook = True
        pid = _postmaster_pid(self.pgdata)
        if pid is not None and _is_postmaster(pid, self.pgdata):
            return True
        return self._recover(server, pid)

    def _recover(self, server: PostgresServer, pid: int | None) -> bool:
        down_since = time.monotonic()
        if self._delays is None or down_since - self._restarted_at > STABLE_S:
            self._delays = backoff(self.first_retry, self.max_retry)
            wait = 0.0
        else:
            # Down again soon after a restart: keep backing off instead of a restart storm.
            wait = next(self._delays)
        log.error("embedded_postgres_down", data_dir=str(self.pgdata), pid=pid, retry_in_s=wait)
        attempt = 0
        while not self._stopping.wait(wait):
            attempt += 1
            try:
                how = self._restart(server)
            except NotRestarted as exc:
                wait = next(self._delays)
                log.warning(
                    "embedded_postgres_restart_failed",
                    attempt=attempt,
                    reason=str(exc),
                    retry_in_s=wait,
                )
                continue
            if how == "released":
                _servers.pop(self.pgdata, None)
                return False
            self.restarts += 1
            self._restarted_at = time.monotonic()
            log.warning(
                "embedded_postgres_restarted",
                attempt=attempt,
                pid=server.get_pid(),
                by_this_process=how == "started",
                down_s=round(self._restarted_at - down_since, 1),
            )
            return True
        return False

    def _restart(self, server: PostgresServer) -> str:
        """Start the postmaster again: "started", "adopted" (another process did) or "released"."""
        # pgserver's lock orders starts and stops across processes, not between threads.
        with self._mutex, server._lock:
            if self._stopping.is_set() or not _holds(server):
                # This process let go of the server (shutting down): it is not ours to start.
                return "released"
            pid = _postmaster_pid(self.pgdata)
            if pid is not None and _is_postmaster(pid, self.pgdata):
                info = _read_postmaster_info(self.pgdata)
                if info is None or info.status != "ready":
                    raise NotRestarted("another process is starting it")
                server._postmaster_info = info
                return "adopted"
            leftovers = _processes_in(self.pgdata)
            if leftovers:
                # Orphaned backends still hold the old shared memory; wait for them to exit.
                raise NotRestarted(f"{len(leftovers)} processes of the old server still run")
            if pid is not None:
                if _is_zombie(pid):
                    # PostgreSQL refuses to start while the pid in postmaster.pid exists.
                    raise NotRestarted(f"the old postmaster {pid} is not reaped yet")
                # Its pid is gone or now names another program, and nothing runs in the
                # data directory: the lock file is stale, and pgserver would trust it.
                (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
            if not (self.pgdata / "PG_VERSION").exists():
                # Never a fresh empty cluster in place of one that held data.
                raise NotRestarted("the data directory is gone")
            try:
                # What `pgserver.get_server` does: as root, the permissions PostgreSQL's
                # user needs on the data directory and its parents (nothing else).
                server.ensure_pgdata_inited()
                server.ensure_postgres_running()
            except Exception as exc:  # pg_ctl's own failures; the server log says more
                raise NotRestarted(f"{type(exc).__name__}: {exc}") from exc
            info = _read_postmaster_info(self.pgdata)
            if info is None or not _is_postmaster(info.pid, self.pgdata):
                raise NotRestarted("the new postmaster did not stay up")
            return "started"


def _postmaster_pid(pgdata: Path) -> int | None:
    """The pid in postmaster.pid (its first line), or None when there is no server."""
    try:
        first = (pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def _read_postmaster_info(pgdata: Path) -> PostmasterInfo | None:
    from pgserver.utils import PostmasterInfo

    try:
        return PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):
        return None  # half-written: a postmaster is starting


def _holds(server: PostgresServer) -> bool:
    """Whether this process is still one of the server's holders (pgserver's own list)."""
    try:
        return os.getpid() in server.global_process_id_list.get()
    except (OSError, ValueError):
        return True  # being rewritten by another process; pgserver removes us only at exit


def _is_zombie(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _is_postmaster(pid: int, pgdata: Path) -> bool:
    """Whether `pid` is a live (not zombie) postmaster serving `pgdata`."""
    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        return str(pgdata) in process.cmdline()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # it cannot be shown dead: never start a second one beside it


def _processes_in(pgdata: Path) -> list[psutil.Process]:
    """Live PostgreSQL processes working in `pgdata` (every backend chdirs into it)."""
    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != "postgres":
            continue
        try:
            if process.status() != psutil.STATUS_ZOMBIE and Path(process.cwd()) == pgdata:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found
