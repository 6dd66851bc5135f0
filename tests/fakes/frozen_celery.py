"""`ajira worker` or `ajira beat` with the clock frozen, for tests of scheduled work.

Usage: python -m tests.fakes.frozen_celery ISO_INSTANT TICK_SECONDS worker|beat [options]

The real command runs with `hrcore.clock.now()` frozen at ISO_INSTANT (a worker's pool
processes are forked, so they share it) and the automations' beat entry every
TICK_SECONDS instead of every five minutes. Celery's own timing stays real.
"""

from __future__ import annotations

import sys
from datetime import datetime

from api.cli import app
from hrcore import clock
from hrcore.worker import celery_app


def main(argv: list[str]) -> None:
    at, tick, *command = argv
    schedule = celery_app.conf.beat_schedule
    schedule["automations-tick"] = {**schedule["automations-tick"], "schedule": float(tick)}
    with clock.frozen(datetime.fromisoformat(at)):
        app(command)


if __name__ == "__main__":
    main(sys.argv[1:])
