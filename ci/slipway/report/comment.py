"""`slipway-pr-comment`: the gate report as one sticky comment on the pull request, edited on each push.

The comment is found again by a marker on its first line, so reviewers see one current report
instead of one per push. Runs in a CI job of its own that holds the only `pull-requests: write`
token, needs nothing but the standard library and the report file, and fails with one line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.errors import SlipwayError
from slipway.report import paths
from slipway.report.github import GitHub, GitHubError, with_retries
from slipway.report.page import link_images

PROG = "slipway-pr-comment"
MARKER = "<!-- slipway:gate-report -->"
ARTIFACT = "gate-report"  # the CI artifact holding the report's HTML and plots
DEFAULT_REPORT = Path(paths.GATE_DIR) / paths.GATE_MARKDOWN
LIMIT = 65_536  # GitHub refuses a longer comment body
MAX_PAGES = 30  # of 100 comments each
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_URL = re.compile(r"https?://[^\s()<>\[\]]+")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


@dataclass(frozen=True)
class PullRequest:
    """Where the comment goes; `from_fork` because such a pull request's token cannot write."""

    repo: str
    number: int
    from_fork: bool


@dataclass(frozen=True)
class Posted:
    """What `publish` did: "posted" or "updated", the comment's page, older marked comments left alone."""

    action: str
    url: str
    older: tuple[int, ...]


def comment_body(markdown: str, artifact_url: str) -> str:
    """The marker and the report with plot links to the artifact, cut at a line to fit GitHub's limit."""
    text = link_images(markdown, artifact_url or None)
    body = f"{MARKER}\n{text}"
    if _length(body) <= LIMIT:
        return body
    where = (
        f"the [`{ARTIFACT}` artifact]({artifact_url})"
        if artifact_url
        else f"this run's `{ARTIFACT}` artifact"
    )
    note = (
        f"\n\n---\n**The report is cut here:** it is longer than a GitHub comment may be ({LIMIT:,} "
        f"characters). The whole report, with its plots, is in {where}.\n"
    )
    head = _cut(text, LIMIT - _length(MARKER) - 1 - _length(note))
    return f"{MARKER}\n{head.rstrip()}{note}"


def _length(text: str) -> int:
    """Length in UTF-16 code units, which is never less than GitHub's count of characters."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, budget: int) -> str:
    """The longest start of `text` in whole lines that fits `budget` with its open blocks closed."""
    head = text.encode("utf-16-le")[: 2 * budget].decode("utf-16-le", errors="ignore")
    head = head[: head.rfind("\n") + 1]
    while True:
        closed = head + _closers(head)
        if _length(closed) <= budget:
            return closed
        head = head[: head.rstrip("\n").rfind("\n") + 1]


def _closers(head: str) -> str:
    """What ends a code fence or `<details>` blocks left open, so the note below renders as text."""
    fences = _FENCE.findall(head)
    fence = f"{fences[-1][:3]}\n" if len(fences) % 2 else ""
    details = max(0, head.count("<details") - head.count("</details>"))
    return fence + "</details>\n" * details


def _is_ours(comment: Any) -> bool:
    body = comment.get("body") if isinstance(comment, dict) else None
    return isinstance(body, str) and body.lstrip().startswith(MARKER) and isinstance(comment.get("id"), int)


def publish(github: GitHub, pr: PullRequest, body: str) -> Posted:
    """Edit the newest marked comment in place, or post one when there is none (never a second)."""
    path = f"/repos/{pr.repo}/issues/{pr.number}/comments"
    ours = [c for page in github.pages(f"{path}?per_page=100", MAX_PAGES) for c in page if _is_ours(c)]
    if not ours:
        answer = github.request("POST", github.url(path), {"body": body})
        return Posted("posted", _html_url(answer.data), ())
    newest = max(ours, key=lambda c: int(c["id"]))
    edit = github.url(f"/repos/{pr.repo}/issues/comments/{newest['id']}")
    answer = github.request("PATCH", edit, {"body": body})
    older = tuple(sorted(int(c["id"]) for c in ours if c is not newest))
    return Posted("updated", _html_url(answer.data), older)


def _html_url(data: Any) -> str:
    return str(data.get("html_url", "")) if isinstance(data, dict) else ""


def pull_request(number: int | None) -> PullRequest:
    """The target from GITHUB_REPOSITORY and the argument or GITHUB_EVENT_PATH's pull_request."""
    repo = os.environ.get("GITHUB_REPOSITORY", "").strip()
    if not _REPO.fullmatch(repo):
        raise SlipwayError(
            f"GITHUB_REPOSITORY is {repo!r}: set it to owner/name (GitHub Actions sets it in every job)"
        )
    event = _event().get("pull_request") or {}
    if number is None:
        number = event.get("number") if isinstance(event, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise SlipwayError(
            "no pull request number: pass --pr N, or run on a pull_request event (GITHUB_EVENT_PATH)"
        )
    return PullRequest(repo, number, _from_fork(event))


def _event() -> dict[str, Any]:
    """The triggering event's payload, or {} outside GitHub Actions."""
    path = os.environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SlipwayError(f"GITHUB_EVENT_PATH {path} is not a readable JSON event ({exc})") from None
    return data if isinstance(data, dict) else {}


def _from_fork(event: Any) -> bool:
    """Whether the pull request's head lives in another repository (or a deleted one)."""
    if not isinstance(event, dict) or "head" not in event:
        return False

    def name(side: Any) -> Any:
        repo = side.get("repo") if isinstance(side, dict) else None
        return repo.get("full_name") if isinstance(repo, dict) else None

    head = name(event.get("head"))
    return head is None or head != name(event.get("base"))


def _github() -> GitHub:
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token or any(c.isspace() for c in token):
        raise SlipwayError(
            "GITHUB_TOKEN is not set (or not one word): give the step "
            "`env: GITHUB_TOKEN: ${{ github.token }}` (and its job `permissions: pull-requests: write`)"
        )
    api = os.environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com"
    if not _URL.fullmatch(api):
        raise SlipwayError(
            f"GITHUB_API_URL is {api!r}: it must be an http(s) URL such as https://api.github.com"
        )
    return GitHub(api, token)


def _read_report(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise SlipwayError(
            f"{path} does not exist: `nox -s evaluate` writes it (download the artifact first)"
        ) from None
    except OSError as exc:
        raise SlipwayError(f"cannot read {path} ({exc.strerror})") from None


def _explain(exc: GitHubError, pr: PullRequest) -> str:
    """GitHub's refusal as one line naming the fix."""
    if exc.status == 401:
        return f"GitHub refused GITHUB_TOKEN ({exc.message}): pass the job's token, ${{{{ github.token }}}}"
    if exc.status == 403:
        return (
            f"GitHub did not let GITHUB_TOKEN comment ({exc.message}): "
            "give the job `permissions: pull-requests: write`"
        )
    if exc.status == 404:
        return (
            f"GitHub found no pull request #{pr.number} in {pr.repo} ({exc.message}): check "
            "GITHUB_REPOSITORY, the pull request number, and that the token can see the repository"
        )
    return str(exc)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="the gate report (Markdown)")
    parser.add_argument(
        "--artifact-url", default="", help="where the run's gate-report artifact is; plots link there"
    )
    parser.add_argument("--pr", type=int, help="pull request number (default: from GITHUB_EVENT_PATH)")
    return parser


def run(args: argparse.Namespace) -> int:
    github = _github()
    pr = pull_request(args.pr)
    if args.artifact_url and not _URL.fullmatch(args.artifact_url):
        raise SlipwayError("--artifact-url must be an http(s) URL without spaces, brackets or parentheses")
    body = comment_body(_read_report(args.report), args.artifact_url)
    try:
        posted = with_retries(lambda: publish(github, pr, body))
    except GitHubError as exc:
        if exc.status == 403 and pr.from_fork:
            print(
                f"::warning::{PROG}: a pull request from a fork gets a read-only token, so the gate "
                f"report is not posted as a comment ({exc.message}); it is in the job summary and the "
                f"{ARTIFACT} artifact"
            )
            return 0
        raise SlipwayError(_explain(exc, pr)) from None
    print(f"{PROG}: {posted.action} the gate report on pull request #{pr.number}: {posted.url}")
    if posted.older:
        ids = ", ".join(map(str, posted.older))
        print(
            f"::notice::{PROG}: older gate report comments ({ids}) were left as they are; "
            "the newest was updated"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except SlipwayError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
