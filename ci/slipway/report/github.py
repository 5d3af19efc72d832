"""The few GitHub REST calls a report poster makes, with the limits a CI step needs.

Standard library only (the poster runs in a job that has no project environment). Every request
has a timeout; answers are read up to a size bound; a `Link: rel="next"` page is followed only on
the API's own origin, so the token never goes anywhere else.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from slipway import __version__
from slipway.errors import SlipwayError

TIMEOUT = 10.0  # seconds, for each request
MAX_ANSWER = 32 * 1024 * 1024  # bytes: 100 comments of GitHub's longest body fit several times
RETRIES = 2  # after a 5xx or a reset connection; nothing else is worth a second try
BACKOFF = 0.5  # seconds, times the attempt number
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')

T = TypeVar("T")


class GitHubError(SlipwayError):
    """GitHub answered with an error status; `message` is GitHub's own one-line explanation."""

    def __init__(self, status: int, message: str, method: str, url: str) -> None:
        super().__init__(f"GitHub answered {status} ({message}) to {method} {url}")
        self.status = status
        self.message = message


class TransientError(SlipwayError):
    """A failure that a later attempt may not meet: a 5xx answer or a reset connection."""


@dataclass(frozen=True)
class Answer:
    """A successful answer: its decoded JSON and the next page's URL, if any."""

    data: Any
    next_url: str | None


@dataclass(frozen=True)
class GitHub:
    """A token for one API root (https://api.github.com, or a GitHub Enterprise Server's /api/v3)."""

    api: str
    token: str

    def url(self, path: str) -> str:
        return self.api.rstrip("/") + path

    def request(self, method: str, url: str, body: Any = None) -> Answer:
        """One call; raises GitHubError for 4xx, TransientError for 5xx or a reset connection."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "User-Agent": f"slipway/{__version__}",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                raw = response.read(MAX_ANSWER + 1)
                link = response.headers.get("Link", "")
        except urllib.error.HTTPError as exc:
            message = _message(exc.read(64 * 1024)) or str(exc.reason or "no message")
            if exc.code >= 500:
                raise TransientError(f"GitHub answered {exc.code} ({message}) to {method} {url}") from None
            raise GitHubError(exc.code, message, method, url) from None
        except ConnectionResetError as exc:
            raise TransientError(f"the connection to {self.api} was reset ({exc})") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ConnectionResetError):
                raise TransientError(f"the connection to {self.api} was reset ({exc.reason})") from None
            if isinstance(exc.reason, TimeoutError):
                raise _timeout(method, url) from None
            raise SlipwayError(f"cannot reach {self.api} ({exc.reason}): check GITHUB_API_URL") from None
        except TimeoutError:
            raise _timeout(method, url) from None
        except http.client.HTTPException as exc:
            broken = type(exc).__name__
            raise SlipwayError(f"{method} {url}: a broken answer ({broken}): re-run the job") from None
        if len(raw) > MAX_ANSWER:
            raise SlipwayError(f"{method} {url}: the answer is larger than {MAX_ANSWER} bytes")
        try:
            data = json.loads(raw) if raw.strip() else None
        except ValueError:
            raise SlipwayError(f"{method} {url}: GitHub's answer is not JSON: check GITHUB_API_URL") from None
        return Answer(data, self._next(link))

    def pages(self, path: str, limit: int) -> Iterator[list[Any]]:
        """Each page of a list endpoint, at most `limit` of them (more raises: the list is unbounded)."""
        url: str | None = self.url(path)
        for _ in range(limit):
            if url is None:
                return
            answer = self.request("GET", url)
            if not isinstance(answer.data, list):
                raise SlipwayError(
                    f"GET {url}: expected a list from GitHub, got {type(answer.data).__name__}"
                )
            yield answer.data
            url = answer.next_url
        if url is not None:
            raise SlipwayError(f"GET {self.url(path)}: more than {limit} pages; slipway reads no further")

    def _next(self, link: str) -> str | None:
        """The rel="next" URL of a Link header, only on the API's own scheme and host."""
        match = _NEXT.search(link)
        if not match:
            return None
        url = match[1]
        ours, theirs = urllib.parse.urlsplit(self.api), urllib.parse.urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise SlipwayError(f"GitHub's next page {url} is not on {self.api}: not followed")
        return url


def with_retries(attempt: Callable[[], T]) -> T:
    """`attempt()`, tried again (at most RETRIES times, after a short pause) when it fails transiently."""
    for number in range(RETRIES + 1):
        try:
            return attempt()
        except TransientError as exc:
            if number == RETRIES:
                raise SlipwayError(f"{exc}, {RETRIES + 1} times: re-run the job later") from None
            time.sleep(BACKOFF * (number + 1))
    raise AssertionError("unreachable")


def _timeout(method: str, url: str) -> SlipwayError:
    return SlipwayError(f"{method} {url} had no answer within {TIMEOUT:g} s: re-run the job")


def _message(raw: bytes) -> str:
    """GitHub's `message` field of an error answer (first line), or "" when there is none."""
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return str(message).strip().splitlines()[0][:300] if message else ""
