"""The WSGI entry point for production servers: `gunicorn 'logistics.wsgi:app'`."""

from __future__ import annotations

from . import create_app

app = create_app()
