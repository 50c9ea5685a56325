"""``oidc-core serve --certfile/--keyfile`` and the throwaway CA of ``tests/support/tls.py``.

The https the relying-party libraries are tested over must be real: the server's certificate
verifies against the test's CA under strict X.509 rules (what Node's OpenSSL and Python 3.13
require), for 127.0.0.1 and localhost, and a client that does not trust that CA refuses it.

And a failure inside a ``Trace`` step names the client and the step, with the provider's log
lines of the failing request (found by its ``X-Request-Id``) over https too.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from urllib.parse import urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.live import HTTP_TIMEOUT, LiveProvider
from tests.support.tls import TLSFiles
from tests.support.trace import Trace

pytestmark = pytest.mark.server

DISCOVERY = "/.well-known/openid-configuration"


def test_the_issuer_and_every_endpoint_are_https(https_provider: LiveProvider) -> None:
    meta = https_provider.metadata
    assert https_provider.issuer.startswith("https://127.0.0.1:")
    assert meta["issuer"] == https_provider.issuer
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert meta[name].startswith(https_provider.issuer + "/"), (name, meta[name])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_certificate_verifies_strictly_against_the_ca(
    https_provider: LiveProvider, tls_files: TLSFiles, host: str
) -> None:
    port = urlsplit(https_provider.issuer).port
    context = ssl.create_default_context(cafile=str(tls_files.ca_file))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with (
        socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        names = dict(tls.getpeercert()["subjectAltName"])
        served = tls.getpeercert(binary_form=True)
    assert names == {"IP Address": "127.0.0.1", "DNS": "localhost"}
    assert served == ssl.PEM_cert_to_DER_cert(tls_files.cert_file.read_text())
    spki = (
        x509.load_der_x509_certificate(served)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert (
        tls_files.server_spki_sha256() == base64.b64encode(hashlib.sha256(spki).digest()).decode()
    )


def test_a_client_that_does_not_trust_the_ca_refuses_the_server(
    https_provider: LiveProvider,
) -> None:
    url = https_provider.issuer + DISCOVERY
    assert requests.get(url, verify=https_provider.verify, timeout=HTTP_TIMEOUT).status_code == 200
    public_roots = requests.certs.where()  # certifi's bundle: the public CAs only
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, verify=public_roots, timeout=HTTP_TIMEOUT)


def test_client_env_names_the_ca_for_python_and_node(https_provider: LiveProvider) -> None:
    env = https_provider.client_env()
    assert https_provider.ca_file is not None
    ca_file = str(https_provider.ca_file)
    assert env["REQUESTS_CA_BUNDLE"] == env["NODE_EXTRA_CA_CERTS"] == ca_file
    assert env["SSL_CERT_FILE"] == ca_file
    assert https_provider.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_a_failed_step_shows_the_provider_log_of_its_request(https_provider: LiveProvider) -> None:
    assert https_provider.log is not None
    trace = Trace("probe 1.0", https_provider.log)
    session = trace.watch(requests.Session())
    with pytest.raises(AssertionError) as caught, trace.step("token request"):
        response = session.post(
            https_provider.metadata["token_endpoint"],
            data={"grant_type": "authorization_code", "code": "no-such-code"},
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200
    request_id = response.headers["X-Request-Id"]
    message = str(caught.value)
    assert message.startswith("probe 1.0: step 'token request' failed: assert ")
    assert f"POST {https_provider.issuer}/token -> {response.status_code} [{request_id}]" in message
    logged = [line for line in message.splitlines() if request_id in line and "POST /token" in line]
    assert logged, message
