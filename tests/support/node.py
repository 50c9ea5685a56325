"""The machine's Node.js and the relying-party packages of ``tests/interop/node``.

``npm ci`` in ``tests/interop/node`` installs them (``.ci/run`` does).  Without Node.js or
without the packages the Node tests are skipped, with the reason, unless
``OIDC_TEST_REQUIRE_NODE=1`` (set in CI), where they fail instead.

Over TLS, the provider's certificate authority reaches Node through ``NODE_EXTRA_CA_CERTS``:
:func:`run_script` takes the CA file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.trace import Trace

NODE_DIR = Path(__file__).resolve().parent.parent / "interop" / "node"
NODE_MODULES = NODE_DIR / "node_modules"
SCRIPT_SECONDS = 60


def require_packages(*names: str) -> str:
    """The path of ``node``, once the packages are known to be installed; else skip (or
    fail in CI)."""
    node = shutil.which("node")
    if node is None:
        _unavailable("no node on PATH: install Node.js 20 or later")
    missing = [name for name in names if not (NODE_MODULES / name / "package.json").exists()]
    if missing:
        _unavailable(f"{', '.join(missing)} not installed: run `npm ci` in {NODE_DIR}")
    assert node is not None
    return node


def _unavailable(reason: str) -> None:
    if os.environ.get("OIDC_TEST_REQUIRE_NODE") == "1":
        pytest.fail(f"{reason} (OIDC_TEST_REQUIRE_NODE=1)", pytrace=False)
    pytest.skip(reason)


def package_version(name: str) -> str:
    """The installed version of an npm package (what the suite ran)."""
    manifest = json.loads((NODE_MODULES / name / "package.json").read_text())
    return str(manifest["version"])


def run_script(
    script: str, request: dict[str, Any], trace: Trace, ca_file: Path | None = None
) -> dict[str, Any]:
    """Run ``tests/interop/node/<script>`` with ``request`` as JSON on its stdin; its JSON
    answer.  The provider's request ids the script reports are added to ``trace``."""
    env = dict(os.environ)
    if ca_file is not None:
        env["NODE_EXTRA_CA_CERTS"] = str(ca_file)
    result = subprocess.run(
        [require_packages(), str(NODE_DIR / script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        env=env,
        timeout=SCRIPT_SECONDS,
        check=False,
    )
    try:
        answer = dict(json.loads(result.stdout))
    except ValueError as exc:
        raise AssertionError(
            f"{script} exited {result.returncode} without a JSON answer:\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        ) from exc
    for seen in answer.get("requests", []):
        trace.record(seen["method"], seen["url"], seen["status"], seen.get("request_id"))
    return answer
