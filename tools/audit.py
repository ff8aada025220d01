"""Audit the locked dependency set (requirements.lock) for known vulnerabilities.

``make audit`` (also part of ``make check``) runs pip-audit over the lock file without
installing anything. Where no vulnerability service can be reached (a closed network),
it says how many packages it could not audit instead of claiming a clean result, and
exits 0 unless ``--strict``; a package with a known advisory always fails the audit,
except for the advisories listed (with why) in ``ACCEPTED``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# Advisory id -> why it does not apply to this project. Empty: none accepted.
ACCEPTED: dict[str, str] = {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lock", default="requirements.lock")
    parser.add_argument("--strict", action="store_true", help="fail when packages go unaudited")
    args = parser.parse_args(argv)
    if not Path(args.lock).is_file():
        print(f"audit: {args.lock} is missing; run `make lock` first.", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "pip_audit", "-r", args.lock, "--no-deps", "--disable-pip"]
    command += ["--progress-spinner", "off", "--format", "json"]
    for advisory in ACCEPTED:
        command += ["--ignore-vuln", advisory]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        tail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"audit: pip-audit could not run ({tail}).", file=sys.stderr)
        return 1 if args.strict else 0
    deps = report.get("dependencies", [])
    skipped = [d["name"] for d in deps if d.get("skip_reason")]
    vulnerable = [(d["name"], d["version"], v) for d in deps for v in d.get("vulns", [])]
    for name, version, vuln in vulnerable:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        print(f"VULNERABLE {name} {version}: {vuln['id']} (fixed in {fixes})")
    audited = len(deps) - len(skipped)
    print(f"audit: {audited} of {len(deps)} locked packages audited, {len(vulnerable)} advisories.")
    if skipped:
        print(
            f"audit: {len(skipped)} packages could not be audited (no vulnerability service "
            "reachable from here?); run `make audit` where PyPI's JSON API or OSV is reachable."
        )
    if vulnerable:
        return 1
    return 1 if skipped and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
