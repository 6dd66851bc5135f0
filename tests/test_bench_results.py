"""The benchmarks' results format: what bench/run_all.py reads back from every benchmark.

No timing here (benchmarks are not tests): only the rows' arithmetic, the JSON that
`write_results` writes, the table, and which scripts the runner picks up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import _common
    import run_all

    return _common, run_all


def test_ratio_and_aim(bench):
    common, _ = bench
    peer = common.Result("clock_in", 200.0, "ops/s", peer="bare INSERT", peer_value=1000.0)
    assert peer.ratio == pytest.approx(0.2)
    assert peer.met is None
    assert peer.aim == ""

    limit = common.Result("p95", 120.0, "ms", peer="aim", peer_value=100.0, limit=True, aim_below=1)
    assert limit.met is False
    assert limit.aim == "< 1×"
    recall = common.Result("recall", 1.0, "recall@5", peer="PGVector", peer_value=0.5, aim_above=1)
    assert recall.met is True


def test_written_rows_read_back(bench, tmp_path, monkeypatch, capsys):
    common, _ = bench
    monkeypatch.setenv(common.RESULTS_DIR_ENV, str(tmp_path))
    rows = [
        common.Result(
            "USSD p95", 40.0, "ms", peer="healthz p95", peer_value=10.0, aim_below=5, note="n=9"
        )
    ]

    path = common.write_results("ussd_sessions", rows, quick=True, params={"callers": 2})

    assert path == tmp_path / "ussd_sessions.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema"] == common.SCHEMA_VERSION
    assert document["benchmark"] == "ussd_sessions"
    assert document["quick"] is True
    assert document["params"] == {"callers": 2}
    [row] = document["rows"]
    assert row["ratio"] == 4.0
    assert row["met"] is True
    assert row["peer_unit"] == "ms"
    assert common.Result.from_json(row) == rows[0]
    assert "| ussd_sessions | USSD p95 (n=9) | 40.0 ms | healthz p95 | 10.0 ms | 4.00× |" in (
        capsys.readouterr().out
    )


def test_run_alone_writes_nothing(bench, monkeypatch):
    common, _ = bench
    monkeypatch.delenv(common.RESULTS_DIR_ENV, raising=False)
    row = common.Result("x", 1.0, "s", peer="aim", peer_value=2.0, limit=True)
    assert common.write_results("x", [row]) is None


def test_quick_flag_follows_the_runner(bench, monkeypatch):
    common, _ = bench
    import argparse

    for value, expected in (("1", True), ("0", False)):
        monkeypatch.setenv(common.QUICK_ENV, value)
        parser = argparse.ArgumentParser()
        common.quick_flag(parser)
        assert parser.parse_args([]).quick is expected


def test_runner_picks_up_every_script_with_rows(bench):
    _, run_all = bench
    found = dict(run_all.benchmarks())
    assert "run_all" not in found
    assert not any(name.startswith("_") for name in found)
    for name in ("core_services", "rest_throughput", "retrieval", "login_flood"):
        assert found[name] is True
    assert found["policy_relevance"] is False


def test_readme_has_the_table_markers(bench):
    _, run_all = bench
    text = run_all.README.read_text(encoding="utf-8")
    assert text.index(run_all.README_START) < text.index(run_all.README_END)


def test_the_fault_scenarios_are_in_the_full_table_only(bench):
    _, run_all = bench
    found = dict(run_all.benchmarks())
    assert found["faults"] is True
    assert "faults" in run_all.FULL_ONLY


FAULT_FIGURES = {
    "postgres_actions": 90,
    "postgres_answers": 120,
    "postgres_503": 30,
    "postgres_slowest_s": 0.8,
    "postgres_recovery_s": 3.4,
    "postgres_bound_s": 15.0,
    "postgres_held_once": 90,
    "model_slowest_s": 2.9,
    "model_cases": 7,
    "model_bound_s": 10.0,
    "redis_slowest_s": 0.7,
    "redis_sent_once": 33,
    "redis_received": 33,
    "redis_bound_s": 8.0,
    "worker_passages": 48,
    "worker_passages_expected": 48,
}


def test_fault_figures_become_rows_that_say_what_was_missed(bench, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import faults

    rows = faults._rows(FAULT_FIGURES)
    assert len(rows) == 7
    assert all(row.met for row in rows)
    # A message sent twice, or service back only after 12 s, is a missed aim.
    doubled = faults._rows({**FAULT_FIGURES, "redis_received": 34})
    assert [row.met for row in doubled].count(False) == 1
    slow = faults._rows({**FAULT_FIGURES, "postgres_recovery_s": 12.0})
    assert [row.figure for row in slow if row.met is False] == [
        "PostgreSQL stopped mid-rush, in order then as a crash: first 200 after the database "
        "returned (worst of the two)"
    ]
    # The PostgreSQL scenario alone (bench/faults.py --quick) still makes its rows.
    alone = {k: v for k, v in FAULT_FIGURES.items() if k.startswith("postgres")}
    assert len(faults._rows(alone)) == 3
