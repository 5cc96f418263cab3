"""Business rules: plain functions that flush and never commit."""
