import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from herald_common.auth.settings import AuthSettings
from herald_common.auth.tokens import TokenError, TokenVerifier, mint_token

SECRET = "unit-test-secret-of-sufficient-length"


def claims(**overrides):
    now = int(time.time())
    base = {
        "iss": "herald",
        "aud": "herald",
        "sub": "E1",
        "roles": ["employee"],
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory, rsa_key):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return path


def hs_verifier() -> TokenVerifier:
    return TokenVerifier(AuthSettings(hs256_secret=SecretStr(SECRET)))


async def test_valid_hs256_token_gives_the_principal():
    principal = await hs_verifier().verify(
        jwt.encode(claims(roles=["manager", "employee"], manages="Sales"), SECRET, "HS256")
    )
    assert principal.subject == "E1"
    assert principal.roles == {"manager", "employee"}
    assert principal.manages == "Sales"
    assert principal.employee_id == "E1"


async def test_a_department_claim_is_kept_as_the_routing_hint():
    principal = await hs_verifier().verify(jwt.encode(claims(department="Sales"), SECRET, "HS256"))
    assert principal.department == "Sales"


@pytest.mark.parametrize("department", [7, "", "x" * 65, "a\x00b", ["Sales"], None])
async def test_a_department_claim_that_is_no_name_is_left_out(department):
    token = jwt.encode(claims(department=department), SECRET, "HS256")
    principal = await hs_verifier().verify(token)
    assert (principal.subject, principal.department) == ("E1", None)


def test_a_minted_token_carries_the_department_given():
    settings = AuthSettings(hs256_secret=SecretStr(SECRET))
    token = mint_token(settings, subject="E1", roles=["employee"], department="Sales")
    assert jwt.decode(token, options={"verify_signature": False})["department"] == "Sales"


async def test_valid_rs256_token_from_jwks(jwks_file, rsa_key):
    verifier = TokenVerifier(AuthSettings(jwks_file=jwks_file))
    token = jwt.encode(claims(roles=["hr-admin"]), rsa_key, "RS256", headers={"kid": "k1"})
    assert (await verifier.verify(token)).roles == {"hr-admin"}


def _unsigned(payload: dict) -> str:
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: _unsigned(claims()), "algorithm is not allowed"),
        (lambda: jwt.encode(claims(), "another-secret-entirely-xxxxxxxxxx", "HS256"), "signature"),
        (lambda: jwt.encode(claims(exp=int(time.time()) - 3600), SECRET, "HS256"), "expired"),
        (lambda: jwt.encode(claims(aud="someone-else"), SECRET, "HS256"), "audience"),
        (lambda: jwt.encode(claims(iss="evil"), SECRET, "HS256"), "issuer"),
        (lambda: jwt.encode(claims(exp=None), SECRET, "HS256"), "'exp'"),
        (lambda: jwt.encode(claims(aud=None), SECRET, "HS256"), "'aud'"),
        (lambda: jwt.encode(claims(roles=["root"]), SECRET, "HS256"), "no known role"),
        (
            lambda: jwt.encode(claims(roles=["manager"]), SECRET, "HS256"),
            "must name the department",
        ),
        (lambda: jwt.encode(claims(), SECRET * 2, "HS512"), "algorithm is not allowed"),
        (lambda: "not.a.token", "malformed"),
    ],
)
async def test_bad_tokens_are_rejected(make, reason):
    with pytest.raises(TokenError, match=reason):
        await hs_verifier().verify(make())


async def test_rs256_token_is_refused_when_only_a_secret_is_configured(rsa_key):
    token = jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"})
    with pytest.raises(TokenError, match="RS256 tokens are not accepted"):
        await hs_verifier().verify(token)


async def test_hs_rs_confusion_cannot_sign_with_the_public_key(jwks_file, rsa_key):
    """An attacker signs HS256 with the (public) RSA key bytes as the HMAC secret."""
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import hashlib
    import hmac

    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(
        b"="
    )
    body = base64.urlsafe_b64encode(json.dumps(claims(roles=["hr-admin"])).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    ).rstrip(b"=")
    forged = b".".join([header, body, signature]).decode()
    verifier = TokenVerifier(AuthSettings(jwks_file=jwks_file))  # RS256 only
    with pytest.raises(TokenError, match="HS256 tokens are not accepted"):
        await verifier.verify(forged)
    both = TokenVerifier(AuthSettings(jwks_file=jwks_file, hs256_secret=SecretStr(SECRET)))
    with pytest.raises(TokenError, match="signature"):
        await both.verify(forged)


async def test_mint_token_round_trips():
    settings = AuthSettings(hs256_secret=SecretStr(SECRET))
    token = mint_token(settings, subject="E9", roles=["manager"], manages="HR", ttl_seconds=60)
    principal = await TokenVerifier(settings).verify(token)
    assert (principal.subject, principal.manages) == ("E9", "HR")
    assert principal.expires_at is not None
    assert principal.expires_at - time.time() <= 60


@pytest.mark.parametrize("kind", [float, str])
async def test_an_exp_that_is_not_an_integer_still_says_when_the_token_ends(kind):
    """PyJWT accepts any `exp` int() reads; streams and cookies end at it, so it is kept."""
    exp = int(time.time()) + 600
    principal = await hs_verifier().verify(jwt.encode(claims(exp=kind(exp)), SECRET, "HS256"))
    assert principal.expires_at == exp
