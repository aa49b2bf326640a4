"""Defaults, FEEDHUB_* environment and the instance folder.

Everything that the web app, the CLI and the poller read comes through
:class:`Settings`, so a poller process started without Flask sees the same
values as the web process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_USER_AGENT = "feedhub/{version} (+https://github.com/feedhub/feedhub; feed aggregator)"


def default_instance_path() -> Path:
    """The instance folder: FEEDHUB_INSTANCE_PATH, else ./instance next to the checkout."""
    env = os.environ.get("FEEDHUB_INSTANCE_PATH")
    if env:
        return Path(env).resolve()
    return (Path.cwd() / "instance").resolve()


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; see ``instance/config.example.py`` for every key."""

    instance_path: Path
    database_url: str = ""
    secret_key: str = ""
    allow_private_networks: bool = False
    user_agent: str = ""
    # fetching
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_body_bytes: int = 15 * 1024 * 1024
    max_decompressed_bytes: int = 60 * 1024 * 1024
    max_redirects: int = 5
    max_per_host: int = 2
    fetch_workers: int = 16
    parse_processes: int = 0  # 0: pick by core count; negative: parse in the poller itself
    # scheduling
    default_interval: int = 30 * 60
    min_interval: int = 5 * 60
    max_interval: int = 24 * 3600
    max_backoff: int = 24 * 3600
    unconditional_every: int = 12 * 3600
    lease_seconds: int = 15 * 60
    # storage
    retention_days: int = 180
    fallback_category: str = "Weitere Artikel"
    # web
    public_reading: bool = True
    load_sample_sources: bool = True
    websub_hub: str = ""
    # the site's public address, for links that leave a request (WebSub topics)
    public_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sqlite_path(self) -> Path:
        return self.instance_path / "feedhub.sqlite3"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @classmethod
    def from_mapping(cls, instance_path: Path, mapping: dict[str, Any]) -> Settings:
        """Build settings from a Flask-style config mapping (upper-case keys)."""
        known = {f.name for f in fields(cls)} - {"instance_path", "extra"}
        kwargs: dict[str, Any] = {}
        for name in known:
            key = name.upper()
            if key in mapping:
                kwargs[name] = mapping[key]
        return cls(instance_path=instance_path, **kwargs)

    @classmethod
    def load(cls, instance_path: Path | None = None, **overrides: Any) -> Settings:
        """Read ``instance/config.py`` then FEEDHUB_* variables, then overrides."""
        path = (instance_path or default_instance_path()).resolve()
        mapping: dict[str, Any] = {}
        cfg_file = path / "config.py"
        if cfg_file.is_file():
            namespace: dict[str, Any] = {"__file__": str(cfg_file)}
            exec(compile(cfg_file.read_text(), str(cfg_file), "exec"), namespace)
            mapping.update({k: v for k, v in namespace.items() if k.isupper()})
        mapping.update(env_overrides())
        mapping.update({k.upper(): v for k, v in overrides.items()})
        return cls.from_mapping(path, mapping)


def env_overrides() -> dict[str, Any]:
    """FEEDHUB_* variables, converted to the type of the matching setting."""
    types = {f.name.upper(): f.type for f in fields(Settings)}
    out: dict[str, Any] = {}
    for key, raw in os.environ.items():
        if not key.startswith("FEEDHUB_"):
            continue
        name = key[len("FEEDHUB_") :]
        kind = types.get(name)
        if kind is None or name == "INSTANCE_PATH":
            continue
        if kind == "bool":
            out[name] = _env_bool(raw)
        elif kind == "int":
            out[name] = int(raw)
        elif kind == "float":
            out[name] = float(raw)
        else:
            out[name] = raw
    return out


def user_agent(settings: Settings) -> str:
    from feedhub import __version__

    return settings.user_agent or DEFAULT_USER_AGENT.format(version=__version__)
