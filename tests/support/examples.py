"""The examples (``examples/``) run as their READMEs say: from the repository root, with
the command written there, on a free loopback port and a temporary database.

``running`` starts one and stops it; once stopped, its log must hold no traceback and no
5xx.  ``printed`` reads what it printed at start (the demo client's id and secret ...).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.live import database_url, stop, wait_for

ROOT = Path(__file__).resolve().parents[2]


def readme_argv(readme_command: str) -> list[str]:
    """A README's command line, run with this virtualenv's python wherever it is."""
    argv = shlex.split(readme_command)
    if argv[0] == ".venv/bin/python":
        argv[0] = sys.executable
    return argv


def environment(tmp: Path, issuer: str) -> dict[str, str]:
    """The ``OIDC_*`` environment of an example serving ``issuer`` on a database in ``tmp``."""
    env = {
        **os.environ,
        "OIDC_ISSUER": issuer,
        "OIDC_DATABASE_URL": database_url(tmp),
        "OIDC_PASSWORD_TIME_COST": "1",
        "OIDC_PASSWORD_MEMORY_COST": "1024",
    }
    env.pop("OAUTHLIB_INSECURE_TRANSPORT", None)  # the examples must not need it
    return env


@contextmanager
def running(
    argv: list[str], env: dict[str, str], ready: str, log: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """Run ``argv`` from the repository root until ``ready`` answers; yield what it printed
    so far.  Its log is shown if a test failed meanwhile."""
    failed_before = request.session.testsfailed
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(ready, process, log)
        yield log.read_text(errors="replace")
    finally:
        stop(process)
        if request.session.testsfailed > failed_before:
            print(f"--- {argv[1] if len(argv) > 1 else argv[0]} ({log}) ---")
            print(log.read_text(errors="replace"))
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    # a 5xx in a host's access log, in the provider's text or JSON access line
    assert not re.search(r'" 5\d\d | 5\d\d [0-9.]+ms |"status":5\d\d', text), text


def printed(text: str, label: str) -> str:
    """The value printed after ``label: `` at start."""
    match = re.search(rf"{label}: (\S+)", text)
    assert match, f"{label!r} not printed:\n{text}"
    return match.group(1)
