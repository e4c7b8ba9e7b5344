"""The parents' centre's view pieces."""
