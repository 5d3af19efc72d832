"""Passwords out of URIs before they reach a message, a log or a record: `scheme://user:***@host`.

A tracking URI may carry a password (`postgresql://user:secret@host/db`, `?password=`); every error
that names the store shows it through `redact`, so no message prints one.
"""

from __future__ import annotations

import re

# `user:password@` after a scheme, and a password given as a query parameter.
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]*):[^\s/@'\"]+@", re.IGNORECASE)
_QUERY = re.compile(r"([?&;](?:password|passwd|pwd)=)[^&;#\s'\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the password of every URI in it replaced by `***` (user names and hosts kept)."""
    return _QUERY.sub(r"\1***", _USERINFO.sub(r"\1:***@", text))
