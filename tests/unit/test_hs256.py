"""The lean HS256 check answers every token as `jwt.decode` does: the same claims, or the
same exception class. Each case names what it expects, and PyJWT must expect it too, so a
case cannot pass by both being wrong in the same way unnoticed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from herald_common.auth.hs256 import Hs256Decoder, is_plain

SECRET = "unit-test-secret-of-sufficient-length"
OTHER_SECRET = "another-secret-of-sufficient-length!"
AUDIENCE = "herald"
ISSUER = "herald"
LEEWAY = 30
REQUIRE = ("exp", "aud", "iss", "sub")
HEADER = {"alg": "HS256", "typ": "JWT"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(header_segment: str, payload_segment: str, secret: str = SECRET) -> str:
    signing_input = f"{header_segment}.{payload_segment}".encode()
    mac = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header_segment}.{payload_segment}.{b64(mac)}"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "E1",
        "roles": ["employee"],
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def token(payload: Any = None, *, secret: str = SECRET, raw: bytes | None = None) -> str:
    body = raw if raw is not None else json.dumps(claims() if payload is None else payload).encode()
    return signed(b64(json.dumps(HEADER).encode()), b64(body), secret)


def with_segment(index: int, change: Callable[[str], str]) -> str:
    parts = token().split(".")
    parts[index] = change(parts[index])
    return ".".join(parts)


def padded(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4)


def resigned_payload(change: Callable[[str], str]) -> str:
    header, payload, _ = token().split(".")
    return signed(header, change(payload))


def noncanonical_signature() -> str:
    # 32 bytes are 43 characters, the last carrying 4 bits and 2 unused ones; setting an
    # unused bit decodes to the same bytes, in a form no encoder writes.
    header, payload, signature = token().split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(signature[-1]) | 1]
    if last == signature[-1]:
        last = alphabet[alphabet.index(signature[-1]) & ~1]
    return f"{header}.{payload}.{signature[:-1]}{last}"


def standard_alphabet_signature() -> str:
    # The first token whose signature has a '-' or '_' (most do), written with '+' and '/'.
    for n in range(1_000):
        header, payload, signature = token(claims(sub=f"E{n}")).split(".")
        if "-" in signature or "_" in signature:
            standard = signature.replace("-", "+").replace("_", "/")
            return f"{header}.{payload}.{standard}"
    raise AssertionError("no signature with '-' or '_' in 1,000 tokens")


def now() -> int:
    # Read when a case's token is made: collection can come long before the test runs.
    return int(time.time())


CASES: dict[str, tuple[Callable[[], str], str]] = {
    "valid": (token, "ok"),
    "expired": (lambda: token(claims(exp=now() - 120)), "ExpiredSignatureError"),
    "expired_within_leeway": (lambda: token(claims(exp=now() - 5)), "ok"),
    "exp_a_numeric_string": (lambda: token(claims(exp=str(now() + 600))), "ok"),
    "exp_a_float": (lambda: token(claims(exp=now() + 600.5)), "ok"),
    "exp_not_a_number": (lambda: token(claims(exp="soon")), "DecodeError"),
    "exp_missing": (lambda: token(claims(exp=...)), "MissingRequiredClaimError"),
    "exp_null": (lambda: token(claims(exp=None)), "MissingRequiredClaimError"),
    "aud_missing": (lambda: token(claims(aud=...)), "MissingRequiredClaimError"),
    "aud_empty": (lambda: token(claims(aud="")), "MissingRequiredClaimError"),
    "aud_other": (lambda: token(claims(aud="payroll")), "InvalidAudienceError"),
    "aud_list_with_ours": (lambda: token(claims(aud=["payroll", AUDIENCE])), "ok"),
    "aud_list_without_ours": (lambda: token(claims(aud=["payroll"])), "InvalidAudienceError"),
    "aud_list_with_a_number": (lambda: token(claims(aud=[AUDIENCE, 7])), "InvalidAudienceError"),
    "aud_an_object": (lambda: token(claims(aud={"a": AUDIENCE})), "InvalidAudienceError"),
    "iss_missing": (lambda: token(claims(iss=...)), "MissingRequiredClaimError"),
    "iss_other": (lambda: token(claims(iss="elsewhere")), "InvalidIssuerError"),
    "iss_a_list": (lambda: token(claims(iss=[ISSUER])), "InvalidIssuerError"),
    "sub_missing": (lambda: token(claims(sub=...)), "MissingRequiredClaimError"),
    "sub_a_number": (lambda: token(claims(sub=12)), "InvalidSubjectError"),
    "jti_a_number": (lambda: token(claims(jti=12)), "InvalidJTIError"),
    "jti_a_string": (lambda: token(claims(jti="j-1")), "ok"),
    "iat_in_the_future": (lambda: token(claims(iat=now() + 600)), "ImmatureSignatureError"),
    "iat_within_leeway": (lambda: token(claims(iat=now() + 5)), "ok"),
    "iat_not_a_number": (lambda: token(claims(iat="now")), "InvalidIssuedAtError"),
    "nbf_in_the_future": (lambda: token(claims(nbf=now() + 600)), "ImmatureSignatureError"),
    "nbf_past": (lambda: token(claims(nbf=now() - 600)), "ok"),
    "nbf_not_a_number": (lambda: token(claims(nbf=[1])), "DecodeError"),
    "other_secret": (lambda: token(secret=OTHER_SECRET), "InvalidSignatureError"),
    "payload_changed_after_signing": (
        lambda: with_segment(1, lambda p: b64(json.dumps(claims(sub="E2")).encode())),
        "InvalidSignatureError",
    ),
    "signature_padded": (lambda: with_segment(2, padded), "ok"),
    "payload_padded": (lambda: resigned_payload(padded), "ok"),
    "signature_three_pads": (lambda: with_segment(2, lambda s: s + "==="), "DecodeError"),
    # 43 characters and one '=' make a quartet; two more do not.
    "signature_pad_not_at_a_quartet": (lambda: with_segment(2, lambda s: s + "=="), "DecodeError"),
    "signature_with_junk": (
        lambda: with_segment(2, lambda s: s[:10] + "!" + s[10:]),
        "DecodeError",
    ),
    "signature_with_a_space": (
        lambda: with_segment(2, lambda s: s[:10] + " " + s[10:]),
        "DecodeError",
    ),
    "signature_in_the_standard_alphabet": (standard_alphabet_signature, "DecodeError"),
    "signature_noncanonical": (noncanonical_signature, "DecodeError"),
    "signature_length_one_past_a_quartet": (
        lambda: with_segment(2, lambda s: s + "AA"),
        "DecodeError",
    ),
    "signature_longer": (lambda: with_segment(2, lambda s: s + "AAAAA"), "InvalidSignatureError"),
    "payload_with_a_plus": (lambda: resigned_payload(lambda p: p[:4] + "+" + p[5:]), "DecodeError"),
    "payload_not_json": (lambda: token(raw=b"not json"), "DecodeError"),
    "payload_a_list": (lambda: token(raw=b"[1, 2]"), "DecodeError"),
    "payload_empty": (lambda: token(raw=b""), "DecodeError"),
    "two_segments": (lambda: ".".join(token().split(".")[:2]), "DecodeError"),
    "four_segments": (lambda: token() + ".AAAA", "DecodeError"),
    "empty_signature": (lambda: with_segment(2, lambda s: ""), "InvalidSignatureError"),
}


def outcome(decode: Callable[[str], dict[str, Any]], given: str) -> tuple[str, Any]:
    try:
        return ("ok", decode(given))
    except jwt.PyJWTError as exc:
        return (type(exc).__name__, None)


def pyjwt(given: str) -> dict[str, Any]:
    return jwt.decode(
        given,
        SECRET,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        leeway=LEEWAY,
        options={"require": list(REQUIRE)},
    )


@pytest.fixture(scope="module")
def lean() -> Hs256Decoder:
    return Hs256Decoder(SECRET, audience=AUDIENCE, issuer=ISSUER, leeway=LEEWAY, require=REQUIRE)


@pytest.mark.parametrize("case", list(CASES))
def test_answers_as_pyjwt_does(case: str, lean: Hs256Decoder) -> None:
    make, expected = CASES[case]
    given = make()
    ours, theirs = outcome(lean.decode, given), outcome(pyjwt, given)
    assert ours == theirs
    assert ours[0] == expected


def test_an_asymmetric_key_is_refused_as_a_secret() -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----"
    with pytest.raises(jwt.InvalidKeyError):
        Hs256Decoder(pem, audience=AUDIENCE, issuer=ISSUER, leeway=LEEWAY, require=REQUIRE)


def test_a_plain_header_is_hs256_with_alg_typ_and_kid_at_most() -> None:
    assert is_plain({"alg": "HS256", "typ": "JWT", "kid": "k1"})


def test_a_header_with_b64_is_not_plain() -> None:
    assert not is_plain({"alg": "HS256", "b64": False, "crit": ["b64"]})


def test_an_rs256_header_is_not_plain() -> None:
    assert not is_plain({"alg": "RS256", "typ": "JWT"})
