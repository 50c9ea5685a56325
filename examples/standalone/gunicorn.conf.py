"""gunicorn settings for the standalone provider behind a TLS-terminating proxy.

    gunicorn -c examples/standalone/gunicorn.conf.py 'oidc_adapters.standalone:create_app()'

The provider's own settings are the ``OIDC_*`` environment variables; these are gunicorn's.
Each can be changed with the environment variable named in its comment.
"""

import multiprocessing
import os

# /admin/metrics sums every worker, recycled ones included, when PROMETHEUS_MULTIPROC_DIR
# names a directory of this server's own in gunicorn's environment (these hooks create it if
# missing and empty it at each start; docs/deployment.md, "Metrics").
from oidc_adapters.gunicorn_metrics import child_exit, on_exit, on_starting  # noqa: F401

from oidc_core import serving

# Listen on loopback: the proxy in front terminates TLS (GUNICORN_BIND).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers, one per core: signing and password hashing are CPU-bound (GUNICORN_WORKERS).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
worker_class = "sync"
# A worker silent this long is killed and restarted.  Keep OIDC_DATABASE_STATEMENT_TIMEOUT_MS
# (5000 by default) well under it: a request blocked on the database then ends in a 503.
timeout = 30
graceful_timeout = 30  # time to finish requests on reload or stop
keepalive = 5  # seconds, for the proxy's keep-alive connections
max_requests = 10000  # recycle workers now and then ...
max_requests_jitter = 1000  # ... not all at once

# Trust X-Forwarded-Proto (and the other forwarded headers gunicorn reads) only from the
# proxy's address (GUNICORN_FORWARDED_ALLOW_IPS, comma-separated).  The provider reads
# X-Forwarded-For for the client address only from OIDC_TRUSTED_PROXIES.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Bounds on what a client may send before the provider sees it, agreeing with the provider's
# own (as oidc-core serve sets them, oidc_core/serving.py): request lines up to gunicorn's
# longest, which holds a URL of MAX_URL_LENGTH (8172) bytes, the provider's limit here
# unless OIDC_MAX_URL_LENGTH sets a lower one; one header up to OIDC_MAX_HEADER_BYTES.  The
# provider's own 414 and 431 then answer what is over its limits.
os.environ.setdefault("OIDC_MAX_URL_LENGTH", str(serving.MAX_URL_LENGTH))  # workers' too
limit_request_line = serving.GUNICORN_MAX_REQUEST_LINE
limit_request_fields = 100
limit_request_field_size = (
    int(os.environ.get("OIDC_MAX_HEADER_BYTES", "16384")) + serving.HEADER_FIELD_FRAMING
)

# Logs to standard error, for the service manager.  No gunicorn access log: its request
# line holds the query string, which may carry codes and tokens; the provider writes one
# access line per request without it, with the request id (OIDC_LOG_FORMAT=json for JSON).
accesslog = None
errorlog = "-"
loglevel = "info"

# No control socket: several servers on one host must not share it.
control_socket_disable = True
