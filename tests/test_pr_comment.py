"""The sticky pull-request comment: the real `slipway-pr-comment` against a local stand-in for GitHub's API.

The stub keeps comments the way GitHub's issue-comment endpoints do (pages of `per_page`, a `Link`
header to the next one, the token checked on every call) and records each request, so the tests
assert what GitHub would have been asked and what the pull request would show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from slipway.report.comment import LIMIT, MARKER

REPO = "acme/model"
NUMBER = 7
TOKEN = "ghs_test-token"
ARTIFACT_URL = "https://github.com/acme/model/actions/runs/1/artifacts/2"
SCRIPT = Path(sys.executable).parent / "slipway-pr-comment"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str
    body: Any


@dataclass
class Stub:
    """GitHub's issue comments of one pull request, and every request made to them."""

    url: str = ""
    comments: list[dict[str, Any]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    page_size: int | None = None  # None: honour per_page, as GitHub does
    refuse_writes: tuple[int, str] | None = None  # (status, message) for every POST and PATCH
    fail_next_post: int = 0  # answer this many POSTs with 502 after storing them (a lost answer)
    next_id: int = 1000

    def add(self, body: str) -> dict[str, Any]:
        self.next_id += 1
        comment = {"id": self.next_id, "body": body, "html_url": f"https://github.com/c/{self.next_id}"}
        self.comments.append(comment)
        return comment

    def calls(self, method: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method]


def handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    list_path = f"/repos/{REPO}/issues/{NUMBER}/comments"
    edit_prefix = f"/repos/{REPO}/issues/comments/"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def answer(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def handle_any(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body: Any = json.loads(self.rfile.read(length)) if length else None
            seen = Seen(self.command, parts.path, parse_qs(parts.query), self.headers["Authorization"], body)
            stub.seen.append(seen)
            if seen.authorization != f"Bearer {TOKEN}":
                return self.answer(401, {"message": "Bad credentials"})
            if self.command in ("POST", "PATCH") and stub.refuse_writes:
                status, message = stub.refuse_writes
                return self.answer(status, {"message": message})
            if self.command == "GET" and parts.path == list_path:
                return self.list_page(seen)
            if self.command == "POST" and parts.path == list_path:
                comment = stub.add(body["body"])
                if stub.fail_next_post:
                    stub.fail_next_post -= 1
                    return self.answer(502, {"message": "Server Error"})
                return self.answer(201, comment)
            if self.command == "PATCH" and parts.path.startswith(edit_prefix):
                wanted = int(parts.path.removeprefix(edit_prefix))
                for comment in stub.comments:
                    if comment["id"] == wanted:
                        comment["body"] = body["body"]
                        return self.answer(200, comment)
            return self.answer(404, {"message": "Not Found"})

        def list_page(self, seen: Seen) -> None:
            size = stub.page_size or int(seen.query["per_page"][0])
            page = int(seen.query.get("page", ["1"])[0])
            items = stub.comments[(page - 1) * size : page * size]
            headers = {}
            if page * size < len(stub.comments):
                headers["Link"] = f'<{stub.url}{seen.path}?per_page={size}&page={page + 1}>; rel="next"'
            self.answer(200, items, headers)

        do_GET = do_POST = do_PATCH = handle_any

    return Handler


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "reports" / "gate" / "report.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        "## Gate passed\n\n| metric | candidate |\n| --- | --- |\n| f1 | 0.91 |\n\n![ROC](roc.png)\n"
    )
    return path


def poster(
    stub: Stub, *args: str, event: dict[str, Any] | None = None, tmp: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the console script as CI would, with GitHub's variables pointing at the stub."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    environ |= {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": stub.url}
    if event is not None and tmp is not None:
        (tmp / "event.json").write_text(json.dumps(event))
        environ["GITHUB_EVENT_PATH"] = str(tmp / "event.json")
    environ |= env
    environ = {k: v for k, v in environ.items() if v}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=environ, timeout=60)


def pr_event(head: str = REPO) -> dict[str, Any]:
    return {
        "pull_request": {
            "number": NUMBER,
            "head": {"repo": {"full_name": head}},
            "base": {"repo": {"full_name": REPO}},
        }
    }


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_first_run_posts_and_later_runs_edit_the_same_comment(
    stub: Stub, report: Path, tmp_path: Path
) -> None:
    first = poster(
        stub, "--report", str(report), "--artifact-url", ARTIFACT_URL, event=pr_event(), tmp=tmp_path
    )
    assert first.returncode == 0, first.stderr
    (post,) = stub.calls("POST")
    assert post.path == f"/repos/{REPO}/issues/{NUMBER}/comments"
    assert post.authorization == f"Bearer {TOKEN}"
    assert post.body["body"].startswith(MARKER + "\n## Gate passed")
    assert "| f1 | 0.91 |" in post.body["body"]
    assert f"[ROC (plot)]({ARTIFACT_URL})" in post.body["body"]
    assert "roc.png" not in post.body["body"]
    assert "posted" in first.stdout

    report.write_text("## Gate blocked\n")
    second = poster(stub, "--report", str(report), "--pr", str(NUMBER))
    assert second.returncode == 0, second.stderr
    assert len(stub.calls("POST")) == 1
    (patch,) = stub.calls("PATCH")
    assert patch.path == f"/repos/{REPO}/issues/comments/{stub.comments[0]['id']}"
    assert [c["body"] for c in stub.comments] == [f"{MARKER}\n## Gate blocked\n"]


def test_finds_its_comment_on_a_later_page(stub: Stub, report: Path) -> None:
    stub.page_size = 2
    stub.add("LGTM")
    stub.add(f"> {MARKER}\n> quoted by a reviewer: not ours")
    stub.add("one more")
    ours = stub.add(f"{MARKER}\nold report")
    result = poster(stub, "--report", str(report), "--pr", str(NUMBER))
    assert result.returncode == 0, result.stderr
    assert [s.query.get("page", ["1"]) for s in stub.calls("GET")] == [["1"], ["2"]]
    assert not stub.calls("POST")
    assert [s.path.rsplit("/", 1)[1] for s in stub.calls("PATCH")] == [str(ours["id"])]
    assert ours["body"].startswith(MARKER + "\n## Gate passed")
    assert stub.comments[1]["body"].startswith("> ")


def test_several_marked_comments_update_the_newest_only(stub: Stub, report: Path) -> None:
    older = stub.add(f"{MARKER}\nfirst")
    newest = stub.add(f"{MARKER}\nsecond, from a race")
    result = poster(stub, "--report", str(report), "--pr", str(NUMBER))
    assert result.returncode == 0, result.stderr
    assert older["body"] == f"{MARKER}\nfirst"
    assert newest["body"].startswith(MARKER + "\n## Gate passed")
    assert not stub.calls("POST")
    notes = [line for line in result.stdout.splitlines() if line.startswith("::notice::")]
    assert len(notes) == 1
    assert str(older["id"]) in notes[0]


def test_a_long_report_is_cut_to_githubs_limit_with_a_note(stub: Stub, report: Path) -> None:
    lines = [f"| row {i} | {i * 0.5:.3f} | ✓ |" for i in range(50_000)]
    report.write_text("```\ncode block left open\n" + "\n".join(lines) + "\n")
    result = poster(stub, "--report", str(report), "--pr", str(NUMBER), "--artifact-url", ARTIFACT_URL)
    assert result.returncode == 0, result.stderr
    body = stub.calls("POST")[0].body["body"]
    assert len(body) <= LIMIT
    assert len(body) > LIMIT - 1000, "cut far below the limit"
    assert body.startswith(MARKER + "\n```\ncode block left open\n")
    head, note = body.split("\n\n---\n")
    assert head.endswith("\n```"), "the open code fence is closed before the note"
    assert head.splitlines()[-2] in lines, "cut between lines, not inside one"
    assert "The report is cut here" in note
    assert ARTIFACT_URL in note


def test_a_lost_answer_to_the_post_is_retried_without_a_duplicate(stub: Stub, report: Path) -> None:
    stub.fail_next_post = 1  # GitHub stored the comment but the answer was a 502
    result = poster(stub, "--report", str(report), "--pr", str(NUMBER))
    assert result.returncode == 0, result.stderr
    assert len(stub.comments) == 1
    assert [s.method for s in stub.seen] == ["GET", "POST", "GET", "PATCH"]


def test_a_refused_token_is_one_line_naming_it(stub: Stub, report: Path) -> None:
    result = poster(stub, "--report", str(report), "--pr", str(NUMBER), GITHUB_TOKEN="ghs_revoked")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "GITHUB_TOKEN" in line
    assert "Bad credentials" in line
    assert len(stub.seen) == 1


@pytest.mark.parametrize(
    ("head", "code", "stream", "expected"),
    [
        ("someone/model", 0, "stdout", "::warning::"),  # a fork's pull request: a read-only token
        (REPO, 1, "stderr", "pull-requests: write"),  # the job lacks the permission: the user's fix
    ],
)
def test_a_forbidden_comment(
    stub: Stub, report: Path, tmp_path: Path, head: str, code: int, stream: str, expected: str
) -> None:
    stub.refuse_writes = (403, "Resource not accessible by integration")
    result = poster(stub, "--report", str(report), event=pr_event(head), tmp=tmp_path)
    assert result.returncode == code
    line = one_line(getattr(result, stream))
    assert expected in line
    assert "Resource not accessible by integration" in line
    assert not stub.comments


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GITHUB_TOKEN": ""}, "GITHUB_TOKEN is not set"),
        ({"GITHUB_REPOSITORY": ""}, "GITHUB_REPOSITORY"),
        ({"GITHUB_REPOSITORY": "acme/model/../../x"}, "GITHUB_REPOSITORY"),
        ({}, "no pull request number"),
    ],
)
def test_missing_settings_are_one_line(stub: Stub, report: Path, env: dict[str, str], expected: str) -> None:
    result = poster(stub, "--report", str(report), event=None, tmp=None, **env)
    assert result.returncode == 1
    assert expected in one_line(result.stderr)
    assert not stub.seen


def test_a_missing_report_is_one_line(stub: Stub, tmp_path: Path) -> None:
    result = poster(stub, "--report", str(tmp_path / "nothing.md"), "--pr", str(NUMBER))
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "nothing.md does not exist" in line
    assert "nox -s evaluate" in line
    assert not stub.seen
