"""The rules engine: pure functions from article text and compiled rules to explained matches."""
