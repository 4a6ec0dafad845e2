"""A stand-in for Google's OIDC signer: an RSA key, its self-signed certificate served on loopback as Google's
v1 certs endpoint does (`{"<kid>": "<PEM>"}`), and RS256 ID tokens minted with google-auth.

    with GoogleCerts() as google:
        verifier = ServiceAccountVerifier(AUDIENCE, [EMAIL], google.certs_url)
        token = google.mint(EMAIL, audience=AUDIENCE)

`ServiceAuth` (see tests/registry/conftest.py, fixture `service`) wires one into the test container."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from shared.auth.google_oidc import ServiceAccountVerifier
from tests.support import RegistryClient

GOOGLE_ISSUER = "https://accounts.google.com"
AUDIENCE = "https://registry.test.example"
SCHEDULER = "scheduler@demo-comfy-registry.iam.gserviceaccount.com"
BUILDER = "extractor@demo-comfy-registry.iam.gserviceaccount.com"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes
    cert_pem: str

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test-google-{kid}")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=2))
            .sign(key, hashes.SHA256())
        )
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(kid, private_pem, cert.public_bytes(serialization.Encoding.PEM).decode())

    def signer(self, kid: str | None = None) -> crypt.RSASigner:
        signer: crypt.RSASigner = crypt.RSASigner.from_string(self.private_pem, key_id=kid or self.kid)
        return signer


class _CertsHandler(BaseHTTPRequestHandler):
    timeout = 5  # a stuck client cannot hold a server thread for long
    server: _CertsServer

    def do_GET(self) -> None:
        self.server.requests += 1
        status, body = self.server.status, json.dumps(self.server.certs).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=3600")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _CertsServer(ThreadingHTTPServer):
    daemon_threads = True
    requests = 0
    status = 200
    certs: dict[str, str]


class GoogleCerts:
    """The signing key and its certificate endpoint, on 127.0.0.1 in a thread, until `close()`."""

    def __init__(self, kid: str = "test-key-1") -> None:
        self.key = SigningKey.generate(kid)
        self._server = _CertsServer(("127.0.0.1", 0), _CertsHandler)
        self._server.certs = {self.key.kid: self.key.cert_pem}
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def certs_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/oauth2/v1/certs"

    @property
    def requests(self) -> int:
        """How many times the certificates were fetched."""
        return self._server.requests

    def add_key(self, kid: str) -> SigningKey:
        """Serve one more key, as Google does when it rotates (the old one stays until it expires)."""
        key = SigningKey.generate(kid)
        self._server.certs = {**self._server.certs, kid: key.cert_pem}
        return key

    def fail_with(self, status: int) -> None:
        """Answer every later fetch with this status (200 restores normal service)."""
        self._server.status = status

    def mint(
        self,
        email: str,
        *,
        audience: str = AUDIENCE,
        issuer: str = GOOGLE_ISSUER,
        email_verified: Any = True,
        lifetime: int = 3600,
        issued_at: float | None = None,
        key: SigningKey | None = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """An ID token as Google signs them; `key`/`kid` forge one with another key or key id."""
        iat = int(issued_at if issued_at is not None else time.time())
        payload = {
            "iss": issuer,
            "aud": audience,
            "azp": "1234567890",
            "sub": "1234567890",
            "email": email,
            "email_verified": email_verified,
            "iat": iat,
            "exp": iat + lifetime,
            **claims,
        }
        signing = key or self.key
        kid = kid or signing.kid
        token: bytes = jwt.encode(signing.signer(kid), payload, header={"kid": kid})
        return token.decode()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> GoogleCerts:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass
class ServiceAuth:
    """Service-account calls against the test container: `headers()` for the allowed scheduler by default."""

    google: GoogleCerts
    verifier: ServiceAccountVerifier
    audience: str = AUDIENCE
    email: str = SCHEDULER

    def token(self, email: str | None = None, **kw: Any) -> str:
        return self.google.mint(email or self.email, audience=kw.pop("audience", self.audience), **kw)

    def headers(self, email: str | None = None, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(email, **kw)}"}


def install(api: RegistryClient, google: GoogleCerts, allowed: tuple[str, ...] = (SCHEDULER, BUILDER)) -> ServiceAuth:
    """Make the functions accept `google`'s tokens for AUDIENCE from the `allowed` service accounts."""
    verifier = ServiceAccountVerifier(AUDIENCE, list(allowed), google.certs_url)
    api.use(service_verifier=verifier)
    return ServiceAuth(google, verifier)
