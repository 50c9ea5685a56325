"""gunicorn hooks that make ``/admin/metrics`` count every worker of a server.

prometheus_client's multiprocess mode (``oidc_core.metrics``): each worker writes its counts
to files in the directory named by ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums them, the
files of dead workers included.  The variable must be in the environment gunicorn starts with
(prometheus_client reads it when it is imported); the directory belongs to one server and
must be empty when the server starts (files of an earlier run would add to its counts).

``oidc-core serve`` does all of it: it sets the variable to a fresh temporary directory
(unless you set one) and starts gunicorn with ``-c python:oidc_adapters.gunicorn_metrics``.
With gunicorn started your own way, set the variable and add to your configuration file::

    from oidc_adapters.gunicorn_metrics import child_exit, on_exit, on_starting

Without the variable the hooks only warn: each worker then counts apart, as before.
"""

from __future__ import annotations

import os as _os
import shutil as _shutil
from pathlib import Path as _Path
from typing import Any

from prometheus_client import multiprocess as _multiprocess

from oidc_core.metrics import DIRECTORY_VARIABLE as _VARIABLE
from oidc_core.metrics import TEMPORARY_MARK as _TEMPORARY_MARK

# gunicorn takes every global of a configuration module whose name is one of its settings:
# only the hooks below have such names (the imports are underscored).


def _directory() -> _Path | None:
    directory = _os.environ.get(_VARIABLE)
    return _Path(directory) if directory else None


def on_starting(server: Any) -> None:
    """Create the directory if missing and empty it, before the first worker starts.

    A master started by gunicorn's binary upgrade (USR2) keeps the files: the old master's
    workers still count there, and their counts carry on.
    """
    directory = _directory()
    if directory is None:
        server.log.warning("%s is not set: /admin/metrics counts each worker apart", _VARIABLE)
        return
    directory.mkdir(parents=True, exist_ok=True)
    if server.master_pid:
        return
    for leftover in directory.glob("*.db"):
        leftover.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """prometheus_client's bookkeeping for a worker gone (its counts stay in the totals)."""
    if _directory() is not None:
        _multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """Remove a directory ``oidc-core serve`` created, unless a new master (USR2) uses it."""
    directory = _directory()
    if directory and (directory / _TEMPORARY_MARK).exists() and not server.reexec_pid:
        _shutil.rmtree(directory, ignore_errors=True)
