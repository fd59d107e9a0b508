"""Parsing: bytes from the fetcher → clean Article records. Pure: no network, no database."""
