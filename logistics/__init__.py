"""Aid logistics tracker: plan stock against distributions, count losses, alert in time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from . import i18n
from .config import PROJECT_ROOT, load_config
from .database import configure_engine
from .extensions import babel, compress, csrf, db, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, commands."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(config))
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    _say_where_the_key_is(app)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(
        app,
        default_translation_directories=str(Path(__file__).parent / "translations"),
        locale_selector=i18n.select_locale,
        timezone_selector=i18n.select_timezone,
    )
    compress.init_app(app)

    from . import auth, errors, guards, security, static_files, templating, views
    from .cli import register_commands
    from .services import changes

    changes.install()  # every write that changes a need marks its organisation for a check
    guards.init_app(app)  # before the blueprints: it bounds their <int:…> ids
    auth.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    static_files.init_app(app)
    templating.init_app(app)
    i18n.init_app(app)
    views.register_blueprints(app)
    register_commands(app)
    if app.config["SCHEDULER"] == "inprocess":
        from .scheduler import start_in_process

        start_in_process(app)
    return app


def _say_where_the_key_is(app: Flask) -> None:
    """Log one line when the secret key is the instance's own rather than a setting."""
    source = app.config.get("SECRET_KEY_SOURCE")
    if source == "created":
        app.logger.warning(
            "LOGISTICS_SECRET_KEY is not set: made a random key and kept it in %s.",
            app.config["SECRET_KEY_FILE"],
        )
    elif source == "file":
        app.logger.info(
            "LOGISTICS_SECRET_KEY is not set: using the key kept in %s.",
            app.config["SECRET_KEY_FILE"],
        )
