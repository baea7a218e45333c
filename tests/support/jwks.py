"""An identity provider's JWKS endpoint for tests: keys, and the ways it misbehaves.

It runs on the test's event loop, answers every request with the key set (after `delay`
seconds), or with a 500 while `failing`, and counts the requests it got; `stop` closes
the port (connection refused) and `start` opens the same port again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return jwk


@dataclass
class JwksServer:
    port: int
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    delay: float = 0.0
    failing: bool = False
    requests: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    async def start(self) -> JwksServer:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            await asyncio.sleep(self.delay)
            if self.failing:
                status, body = "500 Internal Server Error", b"{}"
            else:
                keys = [public_jwk(key, kid) for kid, key in self.keys.items()]
                status, body = "200 OK", json.dumps({"keys": keys}).encode()
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
