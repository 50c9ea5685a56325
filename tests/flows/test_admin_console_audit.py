"""The admin console's audit page: every change, by whom, without secrets."""

from __future__ import annotations

import hashlib
import re

import webtest

from oidc_core import Provider
from oidc_core.storage import Audit
from tests.support.admin_console import ADMIN_EMAIL, client_form, create, followed, post
from tests.support.admin_console import admin as admin
from tests.support.flow import issuer_of

# -- audit, display and headers ---------------------------------------------------------------


def test_the_audit_page_lists_every_change_by_whom_without_secrets(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, first = create(admin)
    post(admin, f"/admin/clients/{client_id}", client_form(client_name="Renamed"))
    reset = followed(
        admin, post(admin, f"/admin/clients/{client_id}/reset-secret", [("grace_seconds", "0")])
    )
    second = re.search(r'<code class="secret">([^<]+)</code>', reset.text)
    assert second
    post(admin, f"/admin/clients/{client_id}/delete", [])
    page = admin.get("/admin/audit")
    for action in ("Created client", "Changed client", "Client secret reset", "Deleted client"):
        assert action in page.text
    assert page.text.count(ADMIN_EMAIL) >= 4 + 1  # four entries and the header
    assert page.text.count(client_id) == 4
    assert "UTC" in page.text
    assert first not in page.text and second.group(1) not in page.text
    for secret in (first, second.group(1)):
        digest = hashlib.sha256(secret.encode()).hexdigest()
        assert digest not in page.text


def test_the_audit_page_names_token_and_administrator_changes(
    admin: webtest.TestApp, provider: Provider
) -> None:
    record, token = provider.storage.admin_tokens.create(
        "provisioning", Audit("cli:ops", "admin_token.create", {"name": "provisioning"})
    )
    provider.storage.admin_tokens.revoke(record.id, Audit("cli:ops", "admin_token.revoke"))
    provider.storage.users.set_admin(ADMIN_EMAIL, True, Audit("cli:ops", "user.promote"))
    page = admin.get("/admin/audit")
    for text in ("Created admin API token", "Revoked admin API token", "Made administrator"):
        assert text in page.text
    assert page.text.count("cli:ops") == 3
    assert token not in page.text and hashlib.sha256(token.encode()).hexdigest() not in page.text


def test_the_audit_log_keeps_the_name_of_a_deleted_client(
    admin: webtest.TestApp, provider: Provider
) -> None:
    kept, _ = create(admin, client_name="Webmail")
    doomed, _ = create(admin, client_name="Billing")
    post(admin, f"/admin/clients/{doomed}", client_form(client_name="Billing portal"))
    assert post(admin, f"/admin/clients/{doomed}/delete", []).status_int == 303
    page = admin.get("/admin/audit")
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)[1:]
    targets = [re.search(r'data-label="Target">(.*?)</td>', row, re.S) for row in rows]
    shown = [" ".join(re.sub(r"<[^>]+>", " ", t.group(1)).split()) for t in targets if t]
    assert shown == [
        f"Billing portal (deleted) {doomed}",  # deleted
        f"Billing portal (deleted) {doomed}",  # renamed
        f"Billing (deleted) {doomed}",  # created
        f"Webmail {kept}",
    ]
    assert f'<a href="{issuer_of(admin)}/admin/clients/{kept}">Webmail</a>' in page.text
    assert page.text.count("client name:") == 0  # the name is not repeated as a detail
    delete = provider.clients.audit_log(limit=1)[0]
    assert (delete.action, delete.details) == ("client.delete", {"client_name": "Billing portal"})
