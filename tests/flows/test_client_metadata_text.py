"""What a client's name, description and URIs may hold (SECURITY-CHECKLIST T-62; issue 14).

Users read these on the consent page and operators in a terminal: a control character
(ESC, BEL, CR, NUL, a bidi override) in a name or description is refused, as the profile
page refuses it in a user's claims; a description keeps its line breaks.  ``client_uri``
and ``logo_uri`` get the checks of a redirect URI (no user information, no whitespace or
control characters, no fragment, https).  Refused through the management API and the
console alike, naming the field, with nothing saved.
"""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.support import admin_console as console
from tests.support.admin_api import CLIENTS, METADATA, Api, error_of, new_token
from tests.support.snapshot import database

# The rules for client metadata, which no mount changes: one mount.
pytestmark = pytest.mark.mounts("one")

CONTROL = [
    pytest.param("\x1b[2J", id="esc"),
    pytest.param("\x07", id="bel"),
    pytest.param("\r", id="cr"),
    pytest.param("\x00", id="nul"),
    pytest.param("\x7f", id="del"),
    pytest.param("\x85", id="c1-next-line"),
    pytest.param("\u202e", id="bidi-override"),
]
# client_uri and logo_uri: what a redirect URI may not be either.
BAD_URIS = [
    pytest.param("https://user:pw@panel.example/", id="userinfo"),
    pytest.param("https://user@panel.example/", id="user"),
    pytest.param("https://panel.example/a\nb", id="lf"),
    pytest.param("https://panel.example/\r\nSet-Cookie: a=b", id="crlf"),
    pytest.param("https://panel.example/a b", id="space"),
    pytest.param("https://panel.example/\x1b[2J", id="esc"),
    pytest.param("https://panel.example/\u202e", id="bidi-override"),
    pytest.param("https://panel.example\\@evil.example/", id="backslash"),
    pytest.param("https://panel.example/#top", id="fragment"),
    pytest.param("https://*.panel.example/", id="wildcard"),
]


@pytest.fixture
def api(app: webtest.TestApp, provider: Provider) -> Api:
    return Api(app, new_token(provider)[1])


def refused_by_api(api: Api, storage: Storage, field: str, value: Any) -> None:
    """Refused on create and on update, naming ``field``; nothing saved either time."""
    client_id = api.create()["client_id"]
    before = database(storage)
    for method, path, body in [
        ("POST", CLIENTS, {**METADATA, field: value}),
        ("PATCH", f"{CLIENTS}/{client_id}", {field: value}),
    ]:
        error = error_of(api.call(method, path, body, status=400))
        assert (error["error"], error["field"]) == ("invalid_client_metadata", field)
        assert database(storage) == before


# -- names and descriptions -----------------------------------------------------------------


@pytest.mark.parametrize("control", CONTROL)
@pytest.mark.parametrize("field", ["client_name", "description"])
def test_control_characters_in_a_name_or_description_are_refused(
    api: Api, storage: Storage, field: str, control: str
) -> None:
    refused_by_api(api, storage, field, f"Panel{control}app")


def test_a_line_feed_is_refused_in_a_name(api: Api, storage: Storage) -> None:
    refused_by_api(api, storage, "client_name", "Panel\napp")


@pytest.mark.parametrize("text", ["First line\nsecond line", "First line\r\nsecond line"])
def test_a_description_keeps_its_line_breaks(api: Api, text: str) -> None:
    created = api.create(description=text)
    assert created["description"] == "First line\nsecond line"
    assert api.get(created["client_id"])["description"] == "First line\nsecond line"


def test_names_in_any_script_are_accepted(api: Api) -> None:
    name = "Zoë's café, 東京, مرحبا 🎉"
    assert api.create(client_name=name)["client_name"] == name


@pytest.mark.parametrize(
    ("field", "value"),
    [("client_name", "Panel\x1b[2Japp"), ("client_name", "Panel\u202eapp"),
     ("description", "Panel\x07app")],
)  # fmt: skip
def test_the_console_refuses_control_characters_naming_the_field(
    provider: Provider, storage: Storage, field: str, value: str
) -> None:
    admin = console_admin(provider)
    before = database(storage)
    page = console.post(admin, "/admin/clients/new", console.client_form(**{field: value}))
    assert page.status_int == 400, page.text[:300]
    assert f'id="{field}-error"' in page.text
    assert "must not contain control characters" in page.text
    assert database(storage) == before


def test_the_console_keeps_a_description_typed_on_several_lines(
    provider: Provider, storage: Storage
) -> None:
    admin = console_admin(provider)
    client_id, _ = console.create(admin, description="First line\r\nsecond line")
    assert console.stored(provider, client_id).description == "First line\nsecond line"
    form = console.client_form(description="First line\r\nsecond line")
    page = console.post(admin, f"/admin/clients/{client_id}", form)
    assert page.status_int == 303, page.text[:300]
    assert "Nothing to save" in page.follow().text


def console_admin(provider: Provider) -> webtest.TestApp:
    console.make_user(provider, console.ADMIN_EMAIL, console.ADMIN_PASSWORD, is_admin=True)
    admin = console.new_app(provider)
    assert console.sign_in(admin, console.ADMIN_EMAIL, console.ADMIN_PASSWORD).status_int == 303
    return admin


# -- client_uri and logo_uri ----------------------------------------------------------------


@pytest.mark.parametrize("uri", BAD_URIS)
@pytest.mark.parametrize("field", ["client_uri", "logo_uri"])
def test_client_and_logo_uris_get_the_checks_of_a_redirect_uri(
    api: Api, storage: Storage, field: str, uri: str
) -> None:
    refused_by_api(api, storage, field, uri)


@pytest.mark.parametrize("field", ["client_uri", "logo_uri"])
def test_the_console_refuses_user_information_in_client_and_logo_uris(
    provider: Provider, storage: Storage, field: str
) -> None:
    admin = console_admin(provider)
    before = database(storage)
    form = console.client_form(**{field: "https://user:pw@app.example/"})
    page = console.post(admin, "/admin/clients/new", form)
    assert page.status_int == 400, page.text[:300]
    assert f'id="{field}-error"' in page.text
    assert "must not contain user information" in page.text
    assert database(storage) == before


@pytest.mark.parametrize(
    ("field", "uri"),
    [("client_uri", "https://panel.example/home?x=1"), ("client_uri", "http://127.0.0.1:8080/"),
     ("logo_uri", "https://panel.example/logo.png"), ("logo_uri", "/static/logo.png")],
)  # fmt: skip
def test_ordinary_client_and_logo_uris_are_accepted(api: Api, field: str, uri: str) -> None:
    assert api.create(**{field: uri})[field] == uri
