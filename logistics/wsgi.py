"""The WSGI entry point for production servers: `gunicorn 'logistics.wsgi:app'`."""

from __future__ import annotations

import gc

from . import create_app

app = create_app()
# Everything loaded at start-up lives as long as the worker: keep the garbage collector
# from walking it again on every request (measured: stock as of a past date twice as fast).
gc.collect()
gc.freeze()
