"""A billing system in miniature, with oidc-core inside it: "Sign in with your billing account".

Run it from the repository root::

    .venv/bin/python examples/pyramid_app/app.py

and open http://127.0.0.1:6543/.  The application has its own customers (customers.py),
its own login page and session, and a global CSRF policy, as an existing Pyramid
application does.  The provider is mounted inside it at /oidc and:

* uses the customers as its accounts        (``config.set_oidc_account_source``);
* trusts the application's session            (``config.set_oidc_host_login``): a customer
  signed in here is not asked to sign in again when a relying party sends them to /oidc;
* sends signed-out customers to our /login    (``oidc.host_login_url`` in development.ini)
  with ``next=`` the provider URL to come back to.

Environment: ``BILLING_PORT`` (6543), ``BILLING_VAR`` (var/pyramid_app: both SQLite
databases), ``BILLING_SESSION_SECRET`` (default: a new one at each start, which signs
everybody out).  The standard library's wsgiref serves it, a thread per connection
(``oidc_adapters.devserver``): a development server only.
"""

from __future__ import annotations

import configparser
import html
import os
import secrets
from pathlib import Path
from typing import Any

from customers import DEMO_CUSTOMERS, CustomerAccounts, Customers
from oidc_adapters.devserver import serve
from oidc_adapters.pyramid import provider_of
from pyramid.authentication import SessionAuthenticationHelper
from pyramid.config import Configurator
from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import Denied, remember
from pyramid.session import SignedCookieSessionFactory

from oidc_core import Provider
from oidc_core.accounts import Account
from oidc_core.keys import create_key_if_missing
from oidc_core.storage import Storage

HERE = Path(__file__).resolve().parent
MAX_PASSWORD = 1024  # characters; refused before hashing

# A relying party to try the provider with: examples/relying_party listens on port 9000.
DEMO_CLIENT = {
    "client_name": "Billing demo relying party",
    "redirect_uris": ["http://127.0.0.1:9000/callback"],
    "client_uri": "http://127.0.0.1:9000/",
}


# -- Who is signed in: Pyramid's security policy over our session ----------------------------


class CustomerPolicy:
    """``request.identity`` is the signed-in customer's Account (or None).

    The session holds only the customer number; the customer is read again on every
    request, so a deleted customer is signed out at once, here and at the provider.
    """

    def __init__(self, accounts: CustomerAccounts) -> None:
        self.accounts = accounts
        self.session = SessionAuthenticationHelper()

    def identity(self, request: Request) -> Account | None:
        number = self.session.authenticated_userid(request)
        return self.accounts.by_id(str(number)) if number else None

    def authenticated_userid(self, request: Request) -> str | None:
        return request.identity.id if request.identity else None

    def permits(self, request: Request, context: Any, permission: str) -> Denied:
        return Denied("this application uses no permissions")

    def remember(self, request: Request, userid: str, **kw: Any) -> list[tuple[str, str]]:
        return self.session.remember(request, userid)  # type: ignore[no-any-return]

    def forget(self, request: Request, **kw: Any) -> list[tuple[str, str]]:
        return self.session.forget(request)  # type: ignore[no-any-return]


def signed_in_customer(request: Request) -> Account | None:
    """Host login for the provider: whoever is signed in to the billing system."""
    return request.identity  # type: ignore[no-any-return]


# -- Our own pages -----------------------------------------------------------------------------


def page(title: str, body: str, status: int = 200) -> Response:
    response = Response(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status=status,
    )
    response.headers["X-Frame-Options"] = "DENY"  # our forms are not to be framed
    response.headers["Cache-Control"] = "no-store"
    return response


def home(request: Request) -> Response:
    customer = request.identity
    if customer is None:
        return page("Billing", '<p>You are not signed in. <a href="/login">Sign in</a></p>')
    issuer = request.registry.settings["oidc.issuer"]
    return page(
        "Billing",
        f"<p>Signed in as <strong>{html.escape(customer.claims['name'])}</strong> "
        f"({html.escape(customer.login)}), customer number {html.escape(customer.id)}.</p>"
        f"<p>Other applications can let you sign in with this account: their OpenID "
        f"provider is <code>{html.escape(issuer)}</code>.</p>"
        f'<form method="post" action="/logout">{csrf_field(request)}'
        '<button type="submit">Sign out</button></form>',
    )


def login(request: Request) -> Response:
    """Our login page.  POSTs are checked by Pyramid's CSRF policy before this runs."""
    next_url = request.params.get("next", "")
    error = ""
    if request.method == "POST":
        email = request.POST.get("email", "")
        password = request.POST.get("password", "")
        accounts: CustomerAccounts = request.registry["customer_accounts"]
        account = accounts.by_login(email) if len(password) <= MAX_PASSWORD else None
        if accounts.verify_password(account, password) and account is not None:
            request.session.invalidate()  # nothing from before the login carries over
            headers = remember(request, account.id)
            return HTTPSeeOther(location=after_login(request, next_url), headers=headers)
        error = "<p><strong>The email address or password is not correct.</strong></p>"
    return page(
        "Sign in to Billing",
        f'{error}<form method="post" action="/login">{csrf_field(request)}'
        f'<input type="hidden" name="next" value="{html.escape(next_url)}">'
        '<p><label>Email <input name="email" type="email" required></label></p>'
        '<p><label>Password <input name="password" type="password" required></label></p>'
        '<button type="submit">Sign in</button></form>',
        status=401 if error else 200,
    )


def after_login(request: Request, next_url: str) -> str:
    """Back to the provider if it sent the customer here; anywhere else would make our
    login page an open redirector (docs/hosting.md: only a ``next`` under the issuer)."""
    issuer = request.registry.settings["oidc.issuer"]
    if next_url.startswith(issuer + "/"):
        return next_url
    return request.route_url("home")


def logout(request: Request) -> Response:
    request.session.invalidate()  # the provider follows: host login now returns None
    return HTTPSeeOther(location=request.route_url("home"))


def csrf_field(request: Request) -> str:
    return f'<input type="hidden" name="csrf_token" value="{get_csrf_token(request)}">'


# -- The application ---------------------------------------------------------------------------


def make_app(
    settings: dict[str, str], customers: Customers, storage: Storage, session_secret: str
) -> Any:
    config = Configurator(settings=settings)
    issuer = settings["oidc.issuer"]
    config.set_session_factory(
        SignedCookieSessionFactory(
            session_secret,
            cookie_name="billing_session",
            secure=issuer.startswith("https://"),
            httponly=True,
            samesite="Lax",  # still sent when a relying party sends the browser to /oidc
        )
    )
    # Every POST of the application must carry the session's CSRF token.  The provider's
    # views opt out (it checks its own forms; relying parties POST to its token endpoint).
    config.set_default_csrf_options(require_csrf=True)
    accounts = CustomerAccounts(customers)
    config.registry["customer_accounts"] = accounts
    config.set_security_policy(CustomerPolicy(accounts))

    config.add_route("home", "/")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_view(home, route_name="home", request_method="GET")
    config.add_view(login, route_name="login", request_method=("GET", "POST"))
    config.add_view(logout, route_name="logout", request_method="POST")

    # The provider, at the path of oidc.issuer, with our customers and our session.
    config.include("oidc_adapters.pyramid")
    config.set_oidc_storage(storage)
    config.set_oidc_account_source(accounts)
    config.set_oidc_host_login(signed_in_customer)
    return config.make_wsgi_app()


def read_settings(port: int, var: Path) -> dict[str, str]:
    """The ``[app:main]`` section of development.ini, with ``%(port)s`` and ``%(var)s``."""
    parser = configparser.ConfigParser()
    parser.read(HERE / "development.ini")
    section = parser["app:main"]
    values = {"port": str(port), "var": str(var)}
    return {key: section.get(key, vars=values) for key in section}


def provider_database(settings: dict[str, str]) -> Storage:
    """What ``oidc-core init`` does: create or upgrade the schema, make a signing key."""
    storage = Storage(settings["oidc.database_url"])
    storage.upgrade()
    create_key_if_missing(storage)
    return storage


def demo_client(provider: Provider) -> tuple[str, str]:
    """The demo relying party's client_id and a new secret (the old one stops working)."""
    actor = "examples/pyramid_app"
    for client, _last_used in provider.clients.search(DEMO_CLIENT["client_name"]):
        if client.name == DEMO_CLIENT["client_name"]:
            return client.client_id, provider.clients.reset_secret(client.client_id, actor)
    client, secret = provider.clients.create(DEMO_CLIENT, actor)
    if secret is None:
        raise RuntimeError("the demo client was created without a secret")
    return client.client_id, secret


def main() -> None:
    port = int(os.environ.get("BILLING_PORT", "6543"))
    var = Path(os.environ.get("BILLING_VAR", "var/pyramid_app")).resolve()
    var.mkdir(parents=True, exist_ok=True)
    settings = read_settings(port, var)

    customers = Customers(settings["billing.database"])
    customers.create_table_with_demo_customers()
    storage = provider_database(settings)
    session_secret = os.environ.get("BILLING_SESSION_SECRET") or secrets.token_hex(32)
    app = make_app(settings, customers, storage, session_secret)
    client_id, client_secret = demo_client(provider_of(app.registry))

    issuer = settings["oidc.issuer"]
    logins = "\n".join(f"              {email}  password: {pw}" for email, _, pw in DEMO_CUSTOMERS)
    print(
        f"""Billing on    http://127.0.0.1:{port}/
customers
{logins}
provider      {issuer}/.well-known/openid-configuration
demo client   client_id: {client_id}
              client_secret: {client_secret}
              redirect URI: {DEMO_CLIENT["redirect_uris"][0]}
              (a new secret at every start)""",
        flush=True,
    )
    serve(app, "127.0.0.1", port)  # a thread per connection


if __name__ == "__main__":
    main()
