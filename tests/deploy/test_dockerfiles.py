"""The service images: pinned bases, a non-root user, dependencies from the lockfile first.

No Docker engine is needed: the one Dockerfile is parsed for each service's
`--build-arg SERVICE`, and that image's build stage's COPY and `uv sync` steps are
replayed in a scratch directory with the project's own uv. The gateway's image also
builds the web console; its stage is checked against the Makefile's Node.js and the files
the console's build reads.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support.deploy import (
    REPO,
    SERVICE_PORTS,
    SERVICE_SETTINGS,
    UV,
    makefile_variable,
    tool,
)
from tests.support.dockerfile import (
    DOCKERFILE,
    base_of,
    chain,
    env,
    image,
    name_of,
    stage,
    stages,
    used_stages,
    values,
)

SERVICES = tuple(SERVICE_SETTINGS)
# An exact version (digits with at least major.minor.patch) or a digest; never `latest`.
PINNED = re.compile(
    r"^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$"
)


def _build(service: str) -> list[dict[str, Any]]:
    """The Python build stage, which installs the service into /opt/herald."""
    return stage(service, "build")


def _uv_sync_args(run_value: str) -> list[str]:
    words = shlex.split(run_value)
    words = [w for w in words if not w.startswith("--mount=")]
    assert words[:2] == ["uv", "sync"], run_value
    return words[2:]


def test_one_dockerfile_builds_every_image_picked_by_the_service_argument() -> None:
    # Declared without a default: a build that names no service fails instead of guessing.
    assert re.search(r"^ARG SERVICE$", DOCKERFILE.read_text(), re.MULTILINE)
    for service in SERVICES:
        last = stages(service)[-1]
        assert [i["value"] for i in last] == [service], "the last stage must be FROM ${SERVICE}"
        # The image is the service's own stage, on the runtime every image shares.
        assert [name_of(s) for s in chain(service)] == ["runtime", service, None]


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_gateway_image_builds_the_console(service: str) -> None:
    assert ("web" in [name_of(s) for s in used_stages(service)]) == (service == "gateway")


@pytest.mark.parametrize("service", SERVICES)
def test_every_base_image_is_pinned(service: str) -> None:
    names = {name_of(s) for s in stages(service)}
    for used in used_stages(service):
        base = base_of(used)
        if base in names:
            continue  # an earlier stage of the same file
        assert PINNED.match(base), f"{service}: base image {base!r} is not pinned"
        assert "latest" not in base


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_runs_as_a_non_root_user(service: str) -> None:
    final = image(service)
    users = values(final, "USER")
    assert users, f"{service}: the final stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # Nothing after USER may switch back.
    last_user = max(i for i, ins in enumerate(final) if ins["instruction"] == "USER")
    assert all(ins["instruction"] != "USER" for ins in final[last_user + 1 :])


@pytest.mark.parametrize("service", SERVICES)
def test_dependencies_come_from_the_lockfile_before_the_code(service: str) -> None:
    build = _build(service)
    steps = [(i["instruction"], i["value"]) for i in build]
    lock_copy = next(n for n, (ins, v) in enumerate(steps) if ins == "COPY" and "uv.lock" in v)
    syncs = [n for n, (ins, v) in enumerate(steps) if ins == "RUN" and "uv sync" in v]
    code_copies = [
        n
        for n, (ins, v) in enumerate(steps)
        if ins == "COPY" and "pyproject.toml" not in v and "uv.lock" not in v
    ]
    assert len(syncs) == 2, f"{service}: expected a dependency sync and a project sync"
    deps, project = (_uv_sync_args(steps[n][1]) for n in syncs)
    assert lock_copy < syncs[0] < min(code_copies) < syncs[1]
    assert {"--frozen", "--no-install-workspace", "--no-dev"} <= set(deps)
    assert {"--frozen", "--no-editable", "--no-dev"} <= set(project)
    packages = {deps[i + 1] for i, arg in enumerate(deps) if arg == "--package"}
    # Every image carries the `herald` CLI, so any of them can run the migrations job.
    assert {f"herald-{service}", "herald-allocation"} <= packages
    assert deps.count("--package") == project.count("--package")


@pytest.mark.parametrize("service", SERVICES)
def test_the_lockfile_layer_has_every_workspace_member(service: str) -> None:
    # uv reads the whole workspace to use the lock, whichever packages it installs.
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    copied = {
        source
        for value in values(_build(service), "COPY")
        for source in value.split()[:-1]
        if source.endswith("pyproject.toml")
    }
    assert copied == {"pyproject.toml"} | {f"{member}/pyproject.toml" for member in members}


@pytest.mark.parametrize("service", SERVICES)
def test_uv_matches_the_makefile(service: str) -> None:
    runs = " ".join(values(_build(service), "RUN"))
    assert f"uv=={makefile_variable('UV_VERSION')}" in runs


@pytest.mark.parametrize("service", SERVICES)
def test_health_check_probes_the_service_port(service: str) -> None:
    final = image(service)
    port = SERVICE_PORTS[service]
    assert values(final, "EXPOSE") == [str(port)]
    (healthcheck,) = values(final, "HEALTHCHECK")
    # The check every image shares probes the URL the service's own stage sets.
    assert "os.environ['HEALTHCHECK_URL']" in healthcheck
    assert env(final)["HEALTHCHECK_URL"] == f"http://127.0.0.1:{port}/healthz"
    settings = " ".join(values(final, "ENV"))
    # Inside a container the service must listen on every interface, not loopback.
    assert "0.0.0.0" in settings  # noqa: S104


def test_the_health_check_passes_on_200_and_fails_otherwise() -> None:
    (healthcheck,) = values(image("allocation"), "HEALTHCHECK")
    command = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert command[0] == "python"

    class Probe(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Probe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        answers = [
            subprocess.run(
                [sys.executable, *command[1:]],
                env={**os.environ, "HEALTHCHECK_URL": url},
                capture_output=True,
                timeout=30,
                check=False,
            ).returncode
            for url in (f"{base}/healthz", f"{base}/readyz")
        ]
    finally:
        server.shutdown()
        server.server_close()
    assert answers[0] == 0
    assert answers[1] != 0


@pytest.mark.parametrize("service", SERVICES)
def test_the_exposed_port_is_the_one_the_service_listens_on(service: str) -> None:
    fields = SERVICE_SETTINGS[service].model_fields
    field = "web_port" if service == "inserter" else "port"
    assert fields[field].default == SERVICE_PORTS[service]
    listens = env(image(service))
    assert listens[f"HERALD_{service.upper()}_{field.upper()}"] == str(SERVICE_PORTS[service])


@pytest.mark.parametrize("service", SERVICES)
def test_the_command_is_an_entry_point_of_the_package(service: str) -> None:
    (cmd,) = values(image(service), "CMD")
    project = tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text())
    assert cmd.strip('[]"') in project["project"]["scripts"]


def test_the_build_context_leaves_out_local_state_but_keeps_what_the_images_copy() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".herald", ".env"} <= ignored
    for service in SERVICES:
        for used in used_stages(service):
            for value in values(used, "COPY"):
                if value.startswith("--from="):
                    continue  # from another stage, not from the context
                *sources, _ = value.split()
                for source in sources:
                    assert source.split("/")[0] not in ignored, f"{service} copies {source}"


# As .dockerignore: no compiled modules of the host in an image (docs/decisions/0093).
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*-data", "*.so", "_compiled.json")


def _replay_build_stage(service: str, workdir: Path) -> Path:
    """Run the build stage's COPY and `uv sync` steps here, as `docker build` would."""
    src, venv = workdir / "src", workdir / "venv"
    src.mkdir()
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
    }
    for instruction in _build(service):
        if instruction["instruction"] == "COPY":
            *sources, dest = instruction["value"].split()
            into = src / dest
            for source in map(REPO.joinpath, sources):
                if source.is_dir():
                    shutil.copytree(source, into, dirs_exist_ok=True, ignore=_IGNORED)
                else:
                    target = into / source.name if dest.endswith("/") else into
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
        elif instruction["instruction"] == "RUN" and "uv sync" in instruction["value"]:
            args = _uv_sync_args(instruction["value"])
            result = subprocess.run(
                [str(tool(UV)), "sync", *args],
                cwd=src,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, f"{service}: uv sync {args} failed:\n{result.stderr}"
            if "--no-install-workspace" in args:
                # The dependency layer must not contain Herald's own packages yet.
                assert not (venv / "bin" / "herald").exists()
    return venv


@pytest.mark.parametrize("service", SERVICES)
def test_build_stage_installs_the_service_and_the_cli(service: str, tmp_path: Path) -> None:
    venv = _replay_build_stage(service, tmp_path)
    assert (venv / "bin" / f"herald-{service}").exists()
    assert (venv / "bin" / "herald").exists()
    # Installed, not linked to the sources, so the final stage needs only /opt/herald.
    check = (
        f"import herald_{service}, herald_common.migrate as m, sys;"
        f"assert '{tmp_path / 'src'}' not in herald_{service}.__file__;"
        "assert m.migration_files()"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", check], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --- The web console, built in the gateway's image -------------------------------------

WEB = REPO / "web"
# Generated or installed locally, never part of the console's sources (both git-ignored).
WEB_LOCAL = {"node_modules", "dist"}
# Sources of `make test` and of people, which `npm run build` never reads.
WEB_NOT_BUILT = {"eslint.config.js", "README.md"}


def _web_copies() -> list[tuple[list[str], str]]:
    copies = []
    for value in values(stage("gateway", "web"), "COPY"):
        *sources, dest = value.split()
        copies.append((sources, dest))
    return copies


def test_the_console_is_built_with_the_makefiles_node() -> None:
    name, _, tag = base_of(stage("gateway", "web")).partition(":")
    assert name == "node"
    version = tuple(int(n) for n in tag.split("-")[0].split("."))
    minimum = tuple(int(n) for n in makefile_variable("NODE_MIN").split("."))
    assert version[: len(minimum)] >= minimum


def test_the_console_packages_come_from_the_lockfile_before_the_sources() -> None:
    steps = [(i["instruction"], i["value"]) for i in stage("gateway", "web")]
    lock = next(
        n for n, (ins, v) in enumerate(steps) if ins == "COPY" and "web/package-lock.json" in v
    )
    install = next(n for n, (ins, v) in enumerate(steps) if ins == "RUN" and "npm " in v)
    (build,) = [n for n, (ins, v) in enumerate(steps) if ins == "RUN" and "npm run build" in v]
    sources = [
        n
        for n, (ins, v) in enumerate(steps)
        if ins == "COPY" and "package.json" not in v and "package-lock.json" not in v
    ]
    assert "npm ci" in steps[install][1], "packages must be installed with npm ci (lockfile only)"
    assert lock < install < min(sources)
    assert max(sources) < build


def test_the_console_stage_copies_every_file_its_build_reads() -> None:
    copied: set[Path] = set()
    for sources, _ in _web_copies():
        copied |= {REPO / source for source in sources}
    for path in WEB.rglob("*"):
        relative = path.relative_to(WEB)
        if relative.parts[0] in WEB_LOCAL or path.is_dir() or str(relative) in WEB_NOT_BUILT:
            continue
        assert any(path == c or c in path.parents for c in copied), f"{path} is not copied"
    # The web directory's layout, kept: its files into the working directory, each
    # subdirectory to its own name.
    (workdir,) = values(stage("gateway", "web"), "WORKDIR")
    for sources, dest in _web_copies():
        for source in sources:
            relative = Path(source).relative_to("web")
            if (REPO / source).is_dir():
                assert Path(workdir, dest) == Path(workdir, relative), f"{source} -> {dest}"
            else:
                assert relative.parent == Path("."), source
                assert dest == "./", f"{source} -> {dest}"


def test_the_gateway_serves_the_built_console_from_a_read_only_path() -> None:
    final = image("gateway")
    copies = [v for v in values(final, "COPY") if v.startswith("--from=web ")]
    (copy,) = copies
    _, source, target = copy.split()
    assert source == "/web/dist"
    assert env(final)["HERALD_GATEWAY_STATIC_DIR"] == target
    # Not under the service's writable working directory.
    (workdir,) = values(final, "WORKDIR")
    assert not Path(target).is_relative_to(workdir)
