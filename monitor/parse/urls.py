"""URL helpers. Pure."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "_hs")
_TRACKING = frozenset(
    [
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "igshid",
        "mkt_tok",
        "ocid",
        "cmpid",
        "ito",
        "_ga",
    ]
)


#: an absolute http(s) URL in canonical form already: lower-case scheme and host, no port,
#: user, query or fragment, a path, nothing urlsplit would drop. ``canonical_url`` gives it
#: back as it is, and so does ``urljoin`` (an absolute URL's path is not resolved against
#: anything); most links in feeds look like this
_CANONICAL = re.compile(r"https?://[a-z0-9.-]+/[^?#\x00-\x20\x7f]*\Z")


def is_canonical(url: str) -> bool:
    return _CANONICAL.match(url) is not None


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute URL without tracking parameters and fragment; scheme and host lower-cased."""
    url = (url or "").strip()
    if not url:
        return ""
    if is_canonical(url):
        return url
    return _canonical(url, base)


def _canonical(url: str, base: str | None) -> str:
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https"):
        return url
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES) and k.lower() not in _TRACKING
    ]
    netloc = parts.netloc.lower()
    if netloc.endswith(":80") and parts.scheme.lower() == "http":
        netloc = netloc[:-3]
    elif netloc.endswith(":443") and parts.scheme.lower() == "https":
        netloc = netloc[:-4]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
