"""monitor: a news-monitoring crawler that alerts when tracked actors turn on each other."""

__version__ = "0.1.0"
