"""Instructor pages."""
