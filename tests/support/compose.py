"""docker-compose.yml as the tests see it: loaded, and interpolated the way Compose does."""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from tests.support.deploy import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
# What a user must export before `docker compose up` (placeholder values for the tests).
REQUIRED_ENV = {
    "HERALD_POSTGRES_PASSWORD": "0123456789abcdef",
    "HERALD_AUTH_HS256_SECRET": "0123456789abcdef0123456789abcdef",
    "HERALD_CHANNELS_APP_SECRET": "fedcba9876543210fedcba9876543210",
}

# Compose's interpolation: $$ escapes, $NAME, ${NAME}, ${NAME<op>word} with op one of
# :- - :? ? :+ +. Any other `$` is an error for Compose, so it is one here too.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?|:\+|\+)(?P<word>[^}]*))?\}"
    r"|(?P<invalid>))"
)


class InterpolationError(ValueError):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["invalid"] is not None:
            raise InterpolationError(f"invalid interpolation at {match.start()} in {text!r}")
        name = match["plain"] or match["name"]
        op, word = match["op"], match["word"] or ""
        value = env.get(name)
        # With a colon, an empty value counts as unset.
        present = bool(value) if op in (":-", ":?", ":+") else value is not None
        if op in (":-", "-"):
            return value if present and value is not None else word
        if op in (":?", "?"):
            if not present:
                raise InterpolationError(f"{name} is required: {word}")
            return value or ""
        if op in (":+", "+"):
            return word if present else ""
        return value or ""

    return _VARIABLE.sub(substitute, text)


def strings(node: Any) -> list[str]:
    """Every string value in the file: what Compose interpolates (keys and comments are not)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    return []


def variables(text: str) -> list[tuple[str, str | None]]:
    """(name, operator) of every variable the text refers to."""
    return [
        (m["plain"] or m["name"], m["op"])
        for m in _VARIABLE.finditer(text)
        if m["plain"] or m["name"]
    ]


@functools.cache
def raw() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


def resolved(env: dict[str, str]) -> dict[str, Any]:
    """The file with every string interpolated from `env`."""

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return interpolate(node, env)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        return node

    result: dict[str, Any] = walk(raw())
    return result


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}
