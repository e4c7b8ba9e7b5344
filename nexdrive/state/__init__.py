"""Cross-cutting state only: who is signed in (docs/architecture.md)."""
from nexdrive.state.auth import (
    ROLE_HOMES,
    AuthState,
    home_for,
    require_role,
    run_anonymous,
    run_as_actor,
    safe_next,
)

__all__ = ["ROLE_HOMES", "AuthState", "home_for", "require_role", "run_anonymous", "run_as_actor", "safe_next"]
