"""Public pages: home, lessons & pricing, terms, privacy."""
