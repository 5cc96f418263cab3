"""Settings read from LOGISTICS_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"
DEFAULT_EVIDENCE_TYPES = (
    "image/jpeg,image/png,image/heic,image/webp,video/mp4,video/quicktime,video/webm,"
    "audio/mpeg,audio/mp4,audio/ogg,application/pdf,text/plain"
)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the app refuses to start."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"LOGISTICS_{name}", default)


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


REQUEST_FILES = 4


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app configuration from the environment, then apply overrides."""
    overrides = dict(overrides or {})
    env_name = overrides.get("ENV") or _env("ENV", "development")
    instance = Path(_env("INSTANCE_DIR", str(PROJECT_ROOT / "instance")))
    config: dict[str, Any] = {
        "ENV": env_name,
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": _env("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL")
        or f"sqlite:///{instance / 'logistics.sqlite3'}",
        "REPORTS_DIR": _env("REPORTS_DIR", str(PROJECT_ROOT / "reports")),
        "EVIDENCE_DIR": _env("EVIDENCE_DIR", str(instance / "evidence")),
        "SCHEDULER": _env("SCHEDULER", "off"),
        # A fraction is allowed (0.05 = every 3 s), for tests of the real scheduler process.
        "CHECK_SHORTAGES_MINUTES": float(_env("CHECK_SHORTAGES_MINUTES", "30") or 30),
        "BASE_URL": _env("BASE_URL", "http://127.0.0.1:5000"),
        "SMTP_HOST": _env("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(_env("SMTP_PORT", "25") or 25),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "SMTP_FROM": _env("SMTP_FROM", "alerts@localhost"),
        # Webhooks to loopback, private or link-local addresses are refused unless this is on.
        "WEBHOOK_ALLOW_PRIVATE": _env_bool("WEBHOOK_ALLOW_PRIVATE", False),
        "LOGIN_MAX_FAILURES": int(_env("LOGIN_MAX_FAILURES", "5") or 5),
        "LOGIN_LOCKOUT_MINUTES": int(_env("LOGIN_LOCKOUT_MINUTES", "15") or 15),
        # A sign-in lasts this long; "keep me signed in on this phone" lasts REMEMBER_DAYS.
        "SESSION_HOURS": int(_env("SESSION_HOURS", "12") or 12),
        "REMEMBER_DAYS": int(_env("REMEMBER_DAYS", "30") or 30),
        "PASSWORD_RESET_MINUTES": 60,
        "INVITATION_DAYS": 7,
        "SQLITE_BUSY_TIMEOUT_MS": 30_000,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "EVIDENCE_MAX_BYTES": int(_env("EVIDENCE_MAX_MB", "50") or 50) * 1024 * 1024,
        "EVIDENCE_TYPES": tuple(
            t.strip() for t in (_env("EVIDENCE_TYPES") or DEFAULT_EVIDENCE_TYPES).split(",")
        ),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    config.update(overrides)
    # A report sent from the field carries its photos in the same request: up to four files of
    # the largest size (a video and three photos), or ten phone photos of a few MB, plus the form.
    config.setdefault(
        "MAX_CONTENT_LENGTH", REQUEST_FILES * config["EVIDENCE_MAX_BYTES"] + 1024 * 1024
    )
    # Cookies only over TLS where the site is served over it (TLS may end at a proxy).
    https = str(config["BASE_URL"] or "").lower().startswith("https://")
    secure = https or config["ENV"] == "production"
    config.setdefault("SESSION_COOKIE_SECURE", secure)
    config.setdefault("REMEMBER_COOKIE_SECURE", secure)
    _require_secret_key(config)
    return config


def _require_secret_key(config: dict[str, Any]) -> None:
    """Refuse to start in production without a real secret key; elsewhere keep one of our own."""
    if config.get("SECRET_KEY"):
        config["SECRET_KEY_SOURCE"] = "setting"
        return
    if config["ENV"] == "production" and not config.get("TESTING"):
        raise ConfigError(
            "LOGISTICS_SECRET_KEY is not set. Set it to a long random string before "
            "running in production (python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    path = Path(config["INSTANCE_DIR"]) / SECRET_KEY_FILE
    config["SECRET_KEY"], created = instance_secret_key(path)
    config["SECRET_KEY_SOURCE"] = "created" if created else "file"
    config["SECRET_KEY_FILE"] = str(path)


def instance_secret_key(path: Path) -> tuple[str, bool]:
    """Return the key kept in path, making a random one (mode 0600) the first time.

    Several workers may start at once: the key is written to a private temporary file and
    linked into place, so exactly one key wins and every worker reads that one.
    """
    try:
        return _read_key(path), False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            return _read_key(path), False
    finally:
        draft.unlink(missing_ok=True)
    return _read_key(path), True


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"{path} holds no usable secret key; delete it to make a new one.")
    return key
