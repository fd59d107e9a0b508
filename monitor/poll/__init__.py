"""Polling: the whole story of one source (``pipeline.poll_source``), the kinds of source and
what each gives (``kinds``), what a poll shares (``context``), and the worker processes that
read and match documents off the event loop (``workers``)."""
