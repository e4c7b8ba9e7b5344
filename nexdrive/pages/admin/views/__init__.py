"""Pieces of the admin pages (tables, charts, forms) kept apart so each page stays short."""
