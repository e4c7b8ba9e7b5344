"""Test set-up shared by tests/ and each provider's tests in webhooks/<provider>/tests/."""
pytest_plugins = ["tests.db_fixtures"]
