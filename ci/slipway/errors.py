"""The one exception type gates raise for expected failures: the CLI prints it as a single line."""


class SlipwayError(Exception):
    """An expected failure (bad config, unreachable registry, failed gate) with a one-line message."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The exception's first message line (at most `limit` characters), or its type when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__
