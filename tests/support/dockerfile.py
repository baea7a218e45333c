"""The Dockerfile as each service's image sees it, parsed without a Docker engine.

One Dockerfile builds every image, the service named by `--build-arg SERVICE=<name>`. Here
the argument is put in as Docker would, and an image is followed from its last stage
(`FROM ${SERVICE}`) through the stages it starts from, back to a base image.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from dockerfile_parse import DockerfileParser

from tests.support.deploy import REPO

DOCKERFILE = REPO / "Dockerfile"

Instruction = dict[str, Any]
Stage = list[Instruction]


def stages(service: str) -> list[Stage]:
    """Every stage, in order, each from its FROM on, built for `service` (comments left out)."""
    argument = re.compile(r"\$\{SERVICE\}|\$SERVICE\b")
    found: list[Stage] = []
    for instruction in DockerfileParser(path=str(DOCKERFILE)).structure:
        if instruction["instruction"] == "FROM":
            found.append([])
        if found and instruction["instruction"] != "COMMENT":
            value = argument.sub(service, instruction["value"])
            found[-1].append({**instruction, "value": value})
    return found


def name_of(stage: Stage) -> str | None:
    words = stage[0]["value"].split()
    return words[2] if len(words) == 3 and words[1].lower() == "as" else None


def base_of(stage: Stage) -> str:
    return str(stage[0]["value"].split()[0])


def stage(service: str, name: str) -> Stage:
    """The stage `FROM ... AS <name>`."""
    (found,) = [s for s in stages(service) if name_of(s) == name]
    return found


def chain(service: str) -> list[Stage]:
    """The stages the image is made of: a base image's stage first, the last stage last."""
    by_name = {name_of(s): s for s in stages(service)}
    made_of = [stages(service)[-1]]
    while base_of(made_of[0]) in by_name:
        made_of.insert(0, by_name[base_of(made_of[0])])
    return made_of


def image(service: str) -> Stage:
    """The instructions that make the service's image, in order."""
    return [instruction for s in chain(service) for instruction in s]


def used_stages(service: str) -> list[Stage]:
    """Every stage building the service's image runs: its chain, and what it copies from."""
    by_name = {name_of(s): s for s in stages(service)}
    used: list[Stage] = []
    waiting = chain(service)
    while waiting:
        current = waiting.pop(0)
        if any(current is s for s in used):
            continue
        used.append(current)
        for copy in values(current, "COPY"):
            source = copy.split()[0]
            if source.startswith("--from="):
                waiting.append(by_name[source.removeprefix("--from=")])
        if base_of(current) in by_name:
            waiting.append(by_name[base_of(current)])
    return used


def values(instructions: Stage, name: str) -> list[str]:
    return [i["value"] for i in instructions if i["instruction"] == name]


def env(instructions: Stage) -> dict[str, str]:
    """What ENV sets; a later value wins, as in the running container."""
    return dict(
        pair.split("=", 1) for value in values(instructions, "ENV") for pair in shlex.split(value)
    )


def image_env(service: str) -> dict[str, str]:
    """The environment the service's image sets."""
    return env(image(service))
