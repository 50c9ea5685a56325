"""A throwaway certificate authority and the provider served over https with it.

``make_tls_files`` writes, in a temporary directory, a CA certificate (``ca.pem``) and a
server certificate for ``127.0.0.1`` and ``localhost`` signed by it (``server.pem``,
``server.key``), with the ``cryptography`` library.  Nothing here is ever committed: every
run makes new ones.

Fixtures (registered for the whole suite by ``tests/conftest.py``):

* ``tls_files``: the session's :class:`TLSFiles`; ``tls_files.ca_file`` is the CA's PEM file
  for ``REQUESTS_CA_BUNDLE``, ``verify=``, ``NODE_EXTRA_CA_CERTS`` or ``SSL_CERT_FILE``;
  ``tls_files.server_spki_sha256()`` pins the server's key for Chromium.
* ``live_provider``: ``oidc-core serve`` for one test module, parametrized: over https with an
  ``https://127.0.0.1:<port>`` issuer, then over plain http on loopback.  While it runs,
  ``REQUESTS_CA_BUNDLE`` names the CA (https) and ``AUTHLIB_INSECURE_TRANSPORT`` /
  ``OAUTHLIB_INSECURE_TRANSPORT`` are set only for http.  ``live_provider.ca_file`` is the
  CA's path (None over http); ``live_provider.client_env()`` is an environment for a client
  subprocess (Node: ``NODE_EXTRA_CA_CERTS``).
* ``https_provider``: the same over https only.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.live import LiveProvider, provider_at

SCHEMES = ("https", "http")
VALIDITY = datetime.timedelta(days=1)
INSECURE_TRANSPORT = ("AUTHLIB_INSECURE_TRANSPORT", "OAUTHLIB_INSECURE_TRANSPORT")


@dataclass(frozen=True)
class TLSFiles:
    ca_file: Path  # the CA certificate (PEM): what clients trust
    cert_file: Path  # the server's certificate (PEM)
    key_file: Path  # the server's private key (PEM, unencrypted)

    def server_spki_sha256(self) -> str:
        """The base64 SHA-256 of the server's public key, for a browser that cannot be given
        a CA file: Chromium's ``--ignore-certificate-errors-spki-list``."""
        cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "oidc-core tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def make_tls_files(directory: Path) -> TLSFiles:
    """A new CA and a server certificate for 127.0.0.1 and localhost, valid for a day.

    The extensions are those strict verifiers require (Python's ``VERIFY_X509_STRICT``,
    Node's OpenSSL): key identifiers, critical basic constraints and key usage, the
    addresses in subjectAltName, serverAuth.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + VALIDITY
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("oidc-core throwaway test CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TLSFiles(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key_file.chmod(0o600)
    return files


@contextmanager
def provider_over(
    scheme: str,
    tmp: Path,
    request: pytest.FixtureRequest,
    tls: TLSFiles,
    settings: dict[str, str] | None = None,
) -> Iterator[LiveProvider]:
    """``provider_at`` over ``scheme``, with the client-side environment that goes with it:
    the CA in ``REQUESTS_CA_BUNDLE`` over https, the libraries' insecure-transport switches
    over http only (loopback)."""
    assert scheme in SCHEMES, scheme
    with pytest.MonkeyPatch.context() as env:
        if scheme == "https":
            env.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
            for name in INSECURE_TRANSPORT:
                env.delenv(name, raising=False)
        else:
            env.delenv("REQUESTS_CA_BUNDLE", raising=False)
            for name in INSECURE_TRANSPORT:
                env.setenv(name, "1")
        with provider_at(
            tmp, request, settings=settings, tls=tls if scheme == "https" else None
        ) as live:
            yield live


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module", params=SCHEMES)
def live_provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tls_files: TLSFiles
) -> Iterator[LiveProvider]:
    """The provider for one test module, over https (throwaway CA), then over http."""
    with provider_over(request.param, tmp_path_factory.mktemp("live"), request, tls_files) as live:
        yield live


@pytest.fixture(scope="module")
def https_provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tls_files: TLSFiles
) -> Iterator[LiveProvider]:
    """The provider for one test module over https only (issuer ``https://127.0.0.1:<port>``)."""
    with provider_over("https", tmp_path_factory.mktemp("live"), request, tls_files) as live:
        yield live
