"""HS256 tokens checked in a few C calls: PyJWT's `decode` rules, without its costs.

PyJWT checks each base64 segment one character at a time in a Python generator, and
prepares the HMAC key on every call (trying it as a PEM, an SSH and a DER key): 26% and
17% of its 38 µs per token here, and every stream open with a token or a cookie, and
every ticket, verifies one (docs/decisions/0082). This module applies the same rules in
the same order, raising PyJWT's own exceptions, so `TokenVerifier` maps its errors as it
always did; tests/unit/test_hs256.py holds it to PyJWT's answer for every case.

Only tokens whose header is plain (`alg`, and optionally `typ` and `kid`) come here; any
other header (`b64`, `crit`, ...) takes PyJWT's own path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable
from typing import Any, Final

from jwt import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidSignatureError,
    MissingRequiredClaimError,
)
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

PLAIN_HEADER_KEYS: Final = frozenset({"alg", "typ", "kid"})
_ALPHABET: Final = re.compile(rb"[A-Za-z0-9_-]*")


def is_plain(header: dict[str, Any]) -> bool:
    """A header this module reads as PyJWT would: HS256, nothing that changes the rules."""
    return header.get("alg") == "HS256" and header.keys() <= PLAIN_HEADER_KEYS


def _segment(data: bytes, name: str) -> bytes:
    """A base64url segment, as strictly as PyJWT reads it: at most two trailing `=` (and
    then a whole number of quartets), nothing outside the alphabet, the canonical form."""
    stripped = data.rstrip(b"=")
    padding = len(data) - len(stripped)
    if (
        padding > 2
        or (padding and len(data) % 4)
        or len(stripped) % 4 == 1
        or not _ALPHABET.fullmatch(stripped)
    ):
        raise DecodeError(f"Invalid {name} padding")
    decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != stripped:
        raise DecodeError(f"Invalid {name} padding")
    return decoded


def _integer(payload: dict[str, Any], claim: str, error: type[Exception], message: str) -> int:
    try:
        return int(payload[claim])
    except (ValueError, TypeError, OverflowError):
        raise error(message) from None


class Hs256Decoder:
    """Verifies HS256 tokens with one secret; the key is prepared (and refused, if it is
    not an HMAC secret) once, here."""

    def __init__(
        self,
        secret: str,
        *,
        audience: str,
        issuer: str,
        leeway: float,
        require: Iterable[str],
    ) -> None:
        self._key = HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(secret)
        self._audience = audience
        self._issuer = issuer
        self._leeway = leeway
        self._require = tuple(require)

    def decode(self, token: str) -> dict[str, Any]:
        """The token's claims, once its signature and claims are checked; raises what
        `jwt.decode` raises for the same token. Its header must be plain (`is_plain`)."""
        raw = token.encode("utf-8")
        try:
            signing_input, crypto_segment = raw.rsplit(b".", 1)
            _, payload_segment = signing_input.split(b".", 1)
        except ValueError as err:
            raise DecodeError("Not enough segments") from err
        payload_data = _segment(payload_segment, "payload")
        signature = _segment(crypto_segment, "crypto")
        expected = hmac.new(self._key, signing_input, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, signature):
            raise InvalidSignatureError("Signature verification failed")
        try:
            payload = json.loads(payload_data)
        except (ValueError, RecursionError) as e:
            raise DecodeError(f"Invalid payload string: {e}") from e
        if not isinstance(payload, dict):
            raise DecodeError("Invalid payload string: must be a json object")
        self._check_claims(payload)
        return payload

    def _check_claims(self, payload: dict[str, Any]) -> None:
        # PyJWT's order: required, iat, nbf, exp, iss, aud, sub, jti.
        for claim in self._require:
            if payload.get(claim) is None:
                raise MissingRequiredClaimError(claim)
        now = time.time()
        if "iat" in payload:
            iat = _integer(
                payload, "iat", InvalidIssuedAtError, "Issued At claim (iat) must be an integer."
            )
            if iat > now + self._leeway:
                raise ImmatureSignatureError("The token is not yet valid (iat)")
        if "nbf" in payload:
            nbf = _integer(
                payload, "nbf", DecodeError, "Not Before claim (nbf) must be an integer."
            )
            if nbf > now + self._leeway:
                raise ImmatureSignatureError("The token is not yet valid (nbf)")
        if "exp" in payload:
            exp = _integer(
                payload, "exp", DecodeError, "Expiration Time claim (exp) must be an integer."
            )
            if exp <= now - self._leeway:
                raise ExpiredSignatureError("Signature has expired")
        self._check_issuer(payload)
        self._check_audience(payload)
        if "sub" in payload and not isinstance(payload["sub"], str):
            raise InvalidSubjectError("Subject must be a string")
        if "jti" in payload and not isinstance(payload["jti"], str):
            raise InvalidJTIError("JWT ID must be a string")

    def _check_issuer(self, payload: dict[str, Any]) -> None:
        if "iss" not in payload:
            raise MissingRequiredClaimError("iss")
        if not isinstance(payload["iss"], str):
            raise InvalidIssuerError("Payload Issuer (iss) must be a string")
        if payload["iss"] != self._issuer:
            raise InvalidIssuerError("Invalid issuer")

    def _check_audience(self, payload: dict[str, Any]) -> None:
        if not payload.get("aud"):
            raise MissingRequiredClaimError("aud")
        claims = payload["aud"]
        if isinstance(claims, str):
            claims = [claims]
        if not isinstance(claims, list) or any(not isinstance(c, str) for c in claims):
            raise InvalidAudienceError("Invalid claim format in token")
        if self._audience not in claims:
            raise InvalidAudienceError("Audience doesn't match")
