"""Reading the services' /metrics (Prometheus text format) without a client library."""

from __future__ import annotations

import httpx


def samples(text: str, name: str) -> dict[str, float]:
    """Every sample of one metric name: its label text (e.g. `phase="publish"`) -> value."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        rest = line[len(name) :]
        if rest.startswith("{"):
            labels, _, value = rest[1:].partition("} ")
        elif rest.startswith(" "):
            labels, value = "", rest[1:]
        else:
            continue  # a longer name that shares the prefix
        found[labels] = float(value.split()[0])
    return found


async def scrape(client: httpx.AsyncClient, url: str) -> str:
    response = await client.get(url, timeout=10)
    response.raise_for_status()
    return response.text


def phase_sums(text: str, metric: str = "herald_inserter_phase_seconds") -> dict[str, float]:
    """A histogram's running sum per `phase` label."""
    sums: dict[str, float] = {}
    for labels, value in samples(text, f"{metric}_sum").items():
        for part in labels.split(","):
            key, _, raw = part.partition("=")
            if key.strip() == "phase":
                sums[raw.strip('"')] = value
    return sums
