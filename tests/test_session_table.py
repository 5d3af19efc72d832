"""The READMEs' session tables match `slipway.sessions.SESSIONS`, and the check catches a drifted one.

CI runs only pytest, so this is where a session added without regenerating the tables fails.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from slipway import session_table
from slipway.sessions import SESSIONS

from tests.conftest import ROOT

READMES = (ROOT / "README.md", ROOT / "template" / "README.md.jinja")


def test_both_readme_tables_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert session_table.main(["--check", *map(str, READMES)]) == 0, capsys.readouterr().err
    for readme in READMES:
        rows = session_table.split(readme, readme.read_text()).table
        assert [line.split("|")[1].strip() for line in rows.splitlines()[2:]] == [f"`{n}`" for n in SESSIONS]


@pytest.mark.parametrize("name", [readme.name for readme in READMES])
def test_check_names_a_drifted_copy_and_the_rewrite_fixes_it(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = next(readme for readme in READMES if readme.name == name)
    drifted = tmp_path / name
    shutil.copy(source, drifted)
    text = drifted.read_text()
    serve_row = next(line for line in text.splitlines(keepends=True) if line.startswith("| `serve`"))
    drifted.write_text(text.replace(serve_row, ""))  # a session added to SESSIONS, not to the README

    assert session_table.main(["--check", str(drifted)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{drifted}: the sessions table differs from slipway.sessions.SESSIONS: "
        f"run `uv run python -m slipway.session_table {drifted}`"
    ]
    assert session_table.main([str(drifted)]) == 0
    assert drifted.read_text() == text  # only the table changed: prose and markers kept byte for byte
    assert session_table.main(["--check", str(drifted)]) == 0


def test_a_file_without_markers_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n\n| session | what it does |\n")
    assert session_table.main(["--check", str(readme)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert str(readme) in err[0]
    assert "<!-- sessions: begin -->" in err[0]
    assert readme.read_text() == "# Project\n\n| session | what it does |\n"
