"""gunicorn settings for the standalone provider (sync workers, one per core)."""

import multiprocessing

bind = "127.0.0.1:8000"
workers = multiprocessing.cpu_count()
worker_class = "sync"
timeout = 30
accesslog = "-"
forwarded_allow_ips = "127.0.0.1"
control_socket_disable = True
