"""Secrets handed out once (API tokens, sign-ins, reset and invitation links): made and hashed."""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    """Return a fresh URL-safe secret of 256 bits."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the SHA-256 of a secret, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()
