"""Account pages (any signed-in user)."""
