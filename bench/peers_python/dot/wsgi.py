"""The WSGI app of the DOT peer; with ``gunicorn --preload`` the set-up runs once, before
the workers fork: tables (migrate), the bench user, one confidential client (hashed
secret unless DOT_HASH_CLIENT_SECRET=0, RS256, consent skipped)."""

from __future__ import annotations

import os

import django
from django.core.management import call_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connections  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)
Application.objects.all().delete()
User.objects.filter(username="bench-user").delete()
user = User.objects.create_user(
    "bench-user", "bench@example.test", os.environ.get("BENCH_PASSWORD", "bench-password")
)
Application.objects.create(
    name="bench",
    client_id="bench-rs256",
    client_secret=os.environ["CLIENT_SECRET"],
    hash_client_secret=os.environ.get("DOT_HASH_CLIENT_SECRET", "1") != "0",
    client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=os.environ["REDIRECT_URI"],
    algorithm=Application.RS256_ALGORITHM,
    skip_authorization=True,
    user=user,
)
connections.close_all()  # no connection shared by the forked workers

application = get_wsgi_application()
