"""DOT's own URLs under /o/, and the bench-only routes: POST /login (a session cookie) and
GET /bench/codes?n=N (N codes of the bench user, PKCE verifier ``BENCH_VERIFIER``), as the
node peer has."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from datetime import timedelta

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.models import Application, Grant

BENCH_VERIFIER = "bench-verifier-" + "x" * 40
REDIRECT_URI = os.environ["REDIRECT_URI"]


@csrf_exempt
@require_POST
def bench_login(request: HttpRequest) -> HttpResponse:
    user = authenticate(
        request,
        username=request.POST.get("username", ""),
        password=request.POST.get("password", ""),
    )
    if user is None:
        return HttpResponse("wrong credentials", status=401)
    login(request, user)
    return HttpResponse(status=204)


@require_GET
def bench_codes(request: HttpRequest) -> HttpResponse:
    count = int(request.GET.get("n", "1"))
    application = Application.objects.get(client_id="bench-rs256")
    digest = hashlib.sha256(BENCH_VERIFIER.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    expires = timezone.now() + timedelta(minutes=10)
    codes = [secrets.token_urlsafe(30) for _ in range(count)]
    Grant.objects.bulk_create(
        Grant(
            user=application.user, application=application, code=code, expires=expires,
            redirect_uri=REDIRECT_URI, scope="openid profile email", code_challenge=challenge,
            code_challenge_method="S256", nonce="bench-nonce", claims="",
        )
        for code in codes
    )  # fmt: skip
    return HttpResponse("\n".join(codes) + "\n", content_type="text/plain")


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("login", bench_login),
    path("bench/codes", bench_codes),
]
