"""Supply-chain checks for `make lint`: bandit over the code, pip-audit over the dependencies.

bandit reads its settings from pyproject.toml ([tool.bandit]); its notes about `# nosec`
on lines whose other expressions have nothing to report are dropped as noise.

pip-audit on its own passes when the vulnerability service cannot be reached: every
package is then "not found" and skipped, which reads like a clean result. This script
counts what was really checked and says so.

- A known vulnerability fails, unless it is listed in `EXPLAINED` with why it does not
  apply (the README's Security section repeats the list).
- Packages that could not be checked (no answer from the service, e.g. a machine that
  reaches only a package mirror) are reported; with `AJIRA_AUDIT_STRICT=1` they fail too.

Usage: python scripts/supply_chain.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: Vulnerability id -> why it does not apply to Ajira. Empty: nothing to explain today.
EXPLAINED: dict[str, str] = {}
#: Bounds, so that a machine without a route to the service does not stall `make lint`.
SOCKET_TIMEOUT_S = 5
AUDIT_BUDGET_S = 120
#: The packages bandit checks: the shipped code.
PACKAGES = ("hrcore", "knowledge", "tools", "assistant", "channels", "api")
ROOT = Path(__file__).resolve().parents[1]


def bandit() -> int:
    """bandit's findings over the shipped code; its exit status."""
    command = [str(Path(sys.executable).with_name("bandit")), "-c", "pyproject.toml", "-q"]
    done = subprocess.run(  # noqa: S603
        [*command, "-r", *PACKAGES], cwd=ROOT, capture_output=True, text=True, check=False
    )
    for stream, out in ((done.stdout, sys.stdout), (done.stderr, sys.stderr)):
        for line in stream.splitlines():
            if "nosec encountered" not in line:
                print(line, file=out)
    print(f"bandit: {'no findings' if done.returncode == 0 else 'findings above'}")
    return done.returncode


def pip_audit() -> int:
    """Known vulnerabilities in the installed dependencies; 1 when there are any."""
    audit = Path(sys.executable).with_name("pip-audit")
    command = [str(audit), "--skip-editable", "--format", "json", "--progress-spinner", "off"]
    command += ["--timeout", str(SOCKET_TIMEOUT_S)]
    for vuln in EXPLAINED:
        command += ["--ignore-vuln", vuln]
    try:
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, check=False, timeout=AUDIT_BUDGET_S
        )
    except subprocess.TimeoutExpired:
        # An unreachable service that swallows packets instead of refusing them.
        print(f"warning: pip-audit had no answer within {AUDIT_BUDGET_S} s: nothing checked")
        return 1 if os.environ.get("AJIRA_AUDIT_STRICT") == "1" else 0
    try:
        report = json.loads(done.stdout)
    except ValueError:
        print(done.stderr.strip() or done.stdout.strip(), file=sys.stderr)
        print("error: pip-audit gave no report", file=sys.stderr)
        return 1
    packages = report.get("dependencies", [])
    vulnerable = [p for p in packages if p.get("vulns")]
    unchecked = [p for p in packages if p.get("skip_reason")]
    checked = len(packages) - len(unchecked)
    for package in vulnerable:
        for vuln in package["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"{package['name']} {package['version']}: {vuln['id']} (fixed in {fixes})")
    print(
        f"pip-audit: {checked} of {len(packages)} packages checked, "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    if unchecked:
        print(
            f"warning: {len(unchecked)} packages could not be checked (the vulnerability "
            "service did not answer for them); set AJIRA_AUDIT_STRICT=1 where it can be "
            "reached to make that an error"
        )
    if vulnerable:
        return 1
    return 1 if unchecked and os.environ.get("AJIRA_AUDIT_STRICT") == "1" else 0


def main() -> int:
    return max(bandit(), pip_audit())


if __name__ == "__main__":
    sys.exit(main())
