"""The one exception type gates raise for expected failures: the CLI prints it as a single line."""


class SlipwayError(Exception):
    """An expected failure (bad config, unreachable registry, failed gate) with a one-line message."""
