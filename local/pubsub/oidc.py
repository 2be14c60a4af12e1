"""OIDC tokens for push: RS256 JWTs like Google's, signed by a key made at start.

Claims follow what Pub/Sub push sends (cloud.google.com/pubsub/docs/authenticate-push-
subscriptions): ``iss`` https://accounts.google.com, ``aud`` (the subscription's audience, else
the push endpoint URL), ``email``, ``email_verified``, ``azp`` and ``sub`` (a stable numeric id
derived from the email, as a service account's unique id looks), ``iat``, ``exp`` (one hour).

The public key is served by the emulator as Google serves its own:
``GET /oauth2/v1/certs`` (``{kid: PEM certificate}``, what ``google.oauth2.id_token.verify_token``
reads without extra packages) and ``GET /oauth2/v3/certs`` (JWKS). The RSA key is generated on a
background thread at start (about 0.1 s of CPU) so that startup does not wait for it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import time

TOKEN_LIFETIME = 3600
# A cached token is reused until this many seconds before it expires.
REFRESH_MARGIN = 300


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def numeric_id(email: str) -> str:
    """A stable 21-digit id for an email, shaped like a service account's unique id."""
    return "1" + str(int.from_bytes(hashlib.sha256(email.encode()).digest()[:8], "big")).zfill(20)


class TokenSigner:
    def __init__(self) -> None:
        self._ready = threading.Event()
        self._key = None
        self._kid = ""
        self._cert_pem = ""
        self._jwk: dict = {}
        # _lock protects _cache: (email, audience) -> (token, expiry).
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._generate, name="pubsub-oidc-keygen", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        pass

    def _generate(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = key.public_key()
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._kid = hashlib.sha1(der).hexdigest()  # noqa: S324  (a key id, not security)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local-pubsub-emulator")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        self._cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        numbers = public.public_numbers()
        self._jwk = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self._kid,
            "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }
        self._key = key
        self._ready.set()

    def _wait(self) -> None:
        if not self._ready.wait(30):
            raise RuntimeError("the OIDC signing key was not generated")

    def pem_certs(self) -> dict[str, str]:
        self._wait()
        return {self._kid: self._cert_pem}

    def jwks(self) -> dict:
        self._wait()
        return {"keys": [self._jwk]}

    def token(self, email: str, audience: str) -> str:
        """A signed ID token for ``email`` with ``audience``; cached for most of its life."""
        now = time.time()
        with self._lock:
            cached = self._cache.get((email, audience))
            if cached and cached[1] - REFRESH_MARGIN > now:
                return cached[0]
        self._wait()
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        iat = int(now)
        sub = numeric_id(email)
        claims = {
            "aud": audience,
            "azp": sub,
            "email": email,
            "email_verified": True,
            "exp": iat + TOKEN_LIFETIME,
            "iat": iat,
            "iss": "https://accounts.google.com",
            "sub": sub,
        }
        header = {"alg": "RS256", "kid": self._kid, "typ": "JWT"}
        signing_input = (
            _b64(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        token = signing_input + "." + _b64(signature)
        with self._lock:
            self._cache[(email, audience)] = (token, iat + TOKEN_LIFETIME)
        return token
