"""The console's Jinja2 environment: templates from this package, every value escaped, and
the few filters the pages use to show times, hashes and JSON."""

from __future__ import annotations

import datetime
import functools
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

__all__ = ["STATIC_FILES", "create_environment", "format_short", "format_time", "load_static"]

STATIC_FILES = {"console.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}


def format_time(time_ms: int | None) -> str:
    """A block time (ms since the epoch) as an ISO 8601 UTC time to the second."""
    if time_ms is None:
        return ""
    moment = datetime.datetime.fromtimestamp(time_ms / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_short(value: str, size: int = 12) -> str:
    """The first ``size`` characters of a long hex string, with an ellipsis."""
    return value if len(value) <= size + 1 else value[:size] + "…"


def create_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("govchain.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.filters["short"] = format_short
    return env


@functools.cache
def load_static(name: str) -> bytes:
    """A static file of the console (only the names of :data:`STATIC_FILES`)."""
    if name not in STATIC_FILES:
        raise KeyError(name)
    return resources.files("govchain.console").joinpath("static", name).read_bytes()
