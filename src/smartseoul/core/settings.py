"""Settings from ``SMARTSEOUL_*`` environment variables.

Every field carries a title, a description and bounds (the Frigate way), so the README's
Configuration table and ``smartseoul config`` are generated from this one place and cannot drift.
"""

from __future__ import annotations

import secrets
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SMARTSEOUL_"


class Settings(BaseSettings):
    """The whole configuration of one Smart Seoul process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    data_dir: Path = Field(
        Path("var"),
        title="Data directory",
        description="Where the embedded database, the generated secret key and uploaded files live.",
    )
    database_url: str = Field(
        "",
        title="Database URL",
        description=(
            "SQLAlchemy URL. Empty means SQLite at DATA_DIR/smartseoul.db (WAL, foreign keys on); "
            "use postgresql+psycopg://user@host:5432/db for the production setup."
        ),
    )
    bus_url: str = Field(
        "memory://",
        title="Event bus URL",
        description="memory:// for the in-process bus, nats://host:4222 for NATS JetStream.",
    )
    bus_stream: str = Field(
        "SMARTSEOUL",
        title="JetStream stream name",
        description="Name of the JetStream stream that holds every platform event.",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
    )
    host: str = Field("127.0.0.1", title="Listen host", description="Address the web server binds to.")
    port: int = Field(8000, ge=1, le=65535, title="Listen port", description="Port of the web server.")
    secret_key: str = Field(
        "",
        title="Secret key",
        description=(
            "Signs session cookies, CSRF tokens and API bearer tokens. Empty means a random key "
            "generated once and kept in DATA_DIR/secret_key. At least 32 characters when set."
        ),
    )
    token_ttl_seconds: int = Field(
        3600, ge=60, le=86400, title="Token lifetime", description="Lifetime of API bearer tokens in seconds."
    )
    session_ttl_seconds: int = Field(
        28800,
        ge=300,
        le=604800,
        title="Session lifetime",
        description="Lifetime of a page session in seconds.",
    )
    secure_cookies: bool = Field(
        False,
        title="Secure cookies",
        description="Mark cookies Secure (HTTPS only). Turn on behind TLS in production.",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=100,
        title="Login failures before lockout",
        description="Consecutive failed logins of one account before it is locked.",
    )
    login_lockout_seconds: int = Field(
        900, ge=1, le=86400, title="Lockout duration", description="How long a locked account stays locked."
    )
    login_rate_per_minute: int = Field(
        20,
        ge=1,
        le=10000,
        title="Login attempts per minute per client",
        description="Login attempts accepted per minute from one client address before HTTP 429.",
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        le=1_073_741_824,
        title="Maximum request body",
        description="Requests with a larger body are refused with HTTP 413.",
    )
    language: Literal["ko", "en"] = Field(
        "ko", title="Default language", description="UI language when the browser states no preference."
    )
    timezone: str = Field(
        "Asia/Seoul", title="Display time zone", description="Time zone in which times are shown to people."
    )
    demo_seed: int = Field(
        20151, ge=0, title="Demo seed", description="Seed of the deterministic demo city (schools, activity)."
    )
    simulate_rate: float = Field(
        2.0,
        gt=0,
        le=10000,
        title="Simulator rate",
        description="Average simulated events per second produced by `smartseoul simulate` and the demo.",
    )
    tracking_listeners: bool = Field(
        True, title="Device listeners", description="Start the GPS device listeners with `smartseoul serve`."
    )
    tracking_osmand_port: int = Field(
        5055,
        ge=0,
        le=65535,
        title="OsmAnd port",
        description="HTTP port for OsmAnd / Traccar Client devices.",
    )
    tracking_watch_port: int = Field(
        5093,
        ge=0,
        le=65535,
        title="Watch protocol port",
        description="TCP port for kids' GPS watches ([3G*...], [SG*...], [ZJ*...] frames).",
    )
    tracking_gt06_port: int = Field(
        5023, ge=0, le=65535, title="GT06 port", description="TCP port for GT06 devices."
    )
    tracking_h02_port: int = Field(
        5013, ge=0, le=65535, title="H02 port", description="TCP port for H02 devices."
    )
    tracking_listen_host: str = Field(
        "0.0.0.0",  # noqa: S104 (devices reach the listeners from the mobile network)
        title="Device listener host",
        description="Address the device listeners bind to.",
    )
    tracking_mqtt_url: str = Field(
        "",
        title="OwnTracks MQTT broker",
        description="mqtt://host:1883 to receive OwnTracks phones on owntracks/USER/DEVICE; empty: off.",
        pattern=r"^(mqtt://.+)?$",
    )
    tracking_retention_days: int = Field(
        180,
        ge=1,
        le=3650,
        title="Position retention",
        description="Positions older than this many days are purged; records of provision are kept.",
    )
    tracking_zones: bool = Field(
        True,
        title="Safe zone evaluation",
        description=(
            "Evaluate safe zones (with hysteresis) for every stored GPS position and raise "
            "geofence, left-school and not-arrived alarms."
        ),
    )
    # --- cctv settings (prefix cctv_) ---
    # --- placement settings (prefix placement_) ---
    # --- incidents settings (prefix incidents_) ---
    # --- alerts settings (prefix alerts_) ---
    # --- videowall settings (prefix videowall_) ---
    log_json: bool = Field(False, title="JSON logs", description="Write logs as one JSON object per line.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", title="Log level", description="Lowest level of log lines written."
    )
    require_services: bool = Field(
        False,
        title="Require services in tests",
        description="Tests that need PostgreSQL, NATS, Mosquitto or Chromium fail instead of skipping.",
    )

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
        return value

    @field_validator("bus_url")
    @classmethod
    def _known_bus(cls, value: str) -> str:
        if not value.startswith(("memory://", "nats://", "tls://")):
            raise ValueError("use memory:// or nats://host:port")
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL with the embedded default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'smartseoul.db').as_posix()}"

    def effective_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


class SettingsError(SystemExit):
    """Raised (as exit code 2) when the environment holds an invalid setting."""


def describe_error(error: ValidationError) -> str:
    """One line per bad variable, named as the user typed it."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "?"
        lines.append(f"invalid setting {ENV_PREFIX}{field.upper()}: {item['msg']}")
    return "\n".join(lines)


def load_settings() -> Settings:
    """Read the environment; an invalid value stops the program with exit code 2."""
    try:
        return Settings()
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        raise SettingsError(2) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
