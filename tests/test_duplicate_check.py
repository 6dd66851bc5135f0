"""`make lint`'s duplicate-code check: a block of 10 lines written twice fails it.

Runs pylint with the project's own settings (pyproject.toml) over two throwaway modules,
so a change to those settings that lets copies through fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BLOCK = "\n".join(
    f"    total = total + {n} * factor if total < {n * 100} else total - {n}" for n in range(12)
)


def _module(name: str, lines: int) -> str:
    body = "\n".join(BLOCK.splitlines()[:lines])
    head = f'"""{name}."""\n\n\ndef {name}(total: int, factor: int) -> int:\n'
    return f"{head}{body}\n    return total\n"


def _pylint(tmp_path: Path, lines: int) -> subprocess.CompletedProcess[str]:
    for name in ("first", "second"):
        (tmp_path / f"{name}.py").write_text(_module(name, lines), encoding="utf-8")
    return subprocess.run(  # noqa: S603 - pylint from this virtualenv
        [
            sys.executable,
            "-m",
            "pylint",
            "--rcfile",
            str(ROOT / "pyproject.toml"),
            "--score=n",
            str(tmp_path / "first.py"),
            str(tmp_path / "second.py"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )


def test_a_block_of_ten_lines_written_twice_fails_the_check(tmp_path: Path) -> None:
    found = _pylint(tmp_path, 12)
    assert found.returncode != 0
    assert "R0801" in found.stdout, found.stdout


def test_a_shorter_repeat_passes(tmp_path: Path) -> None:
    found = _pylint(tmp_path, 8)
    assert found.returncode == 0, found.stdout + found.stderr
