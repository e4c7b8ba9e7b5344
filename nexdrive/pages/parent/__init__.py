"""Parent pages."""
