"""The built web console: files by path, index.html for the app's own routes.

Vite names every asset after its content hash, so assets are cached for good and
index.html (which names the current assets) is never cached. The security headers of every
response, these included, come from `herald_gateway.security_headers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

IMMUTABLE: Final = "public, max-age=31536000, immutable"
NO_CACHE: Final = "no-cache"


@dataclass(frozen=True, slots=True)
class StaticFile:
    path: Path
    cache_control: str


class StaticSite:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def index(self) -> Path:
        return self.root / "index.html"

    def built(self) -> bool:
        return self.index.is_file()

    def resolve(self, url_path: str) -> StaticFile | None:
        """The file for a URL path; None for a missing file (or one outside the root)."""
        relative = url_path.lstrip("/")
        if not relative:
            return StaticFile(self.index, NO_CACHE)
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root):
            return None
        if candidate.is_file():
            cache = IMMUTABLE if relative.startswith("assets/") else NO_CACHE
            if candidate == self.index:
                cache = NO_CACHE
            return StaticFile(candidate, cache)
        # A path without a file extension is one of the app's own pages.
        if "." not in relative.rsplit("/", 1)[-1]:
            return StaticFile(self.index, NO_CACHE)
        return None
