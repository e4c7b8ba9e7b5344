"""Use cases. Each takes a session and the acting user; none imports reflex."""
