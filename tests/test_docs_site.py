"""The docs site's staging (slipway.report.site) on synthetic projects, and MkDocs' strict build of
the template's mkdocs.yml over what it stages: with every source missing, and with every one present."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml
from slipway.report import site

ROOT = Path(__file__).resolve().parents[1]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6364f8ff3f0005fe02fea7d6a4a60000000049454e44ae426082"
)
README = """# My Model

Read [the contract](contract.yaml), [`params.yaml`](params.yaml),
the [intended use](docs/intended-use.md#limits), the [last verdict](reports/gate/report.md),
[the uv docs](https://docs.astral.sh/uv/); see [Layout](#layout).
Inline code stays: `[x](contract.yaml)`.

```bash
echo "[not a link](contract.yaml)"
```

## Layout
"""


def mkdocs_config(project: Path) -> None:
    """The template's mkdocs.yml, rendered as copier renders it (its filters)."""
    env = jinja2.Environment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
    text = (ROOT / "template" / "mkdocs.yml.jinja").read_text()
    (project / "mkdocs.yml").write_text(env.from_string(text).render(project_name="My Model"))


def write(project: Path, path: str, content: str | bytes) -> None:
    target = project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)


def full_project(project: Path) -> Path:
    """A project in which every source of the site exists: what a project has after deploy and monitor."""
    write(project, "README.md", README)
    write(project, "contract.yaml", "target: y\n")
    write(project, "docs/intended-use.md", "# Use\n\n## Limits\n\nBack to [the README](../README.md).\n")
    write(project, "docs/faq.md", "# FAQ\n\nSee [the intended use](intended-use.md).\n")
    write(project, "reports/gate/report.md", "# Gate\n\n| auc |\n|---|\n| 0.9 |\n\n![ROC](roc.png)\n")
    write(project, "reports/gate/roc.png", PNG)
    write(project, "reports/gate/report.html", "<!doctype html><title>gate</title>")
    write(project, "reports/card/model-card.md", "# Card\n\nBased on [the gate report](../gate/report.md).\n")
    write(project, "reports/monitor/report.html", "<!doctype html><title>drift</title><p>no drift</p>")
    return project


def test_missing_sources_become_pages_naming_the_session_that_writes_them(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# My Model\n")
    write(tmp_path, "docs/intended-use.md", "# Intended use\n")
    missing = site.stage(tmp_path)
    assert [page.title for page in missing] == ["Gate report", "Model card", "Drift report"]
    staged = tmp_path / site.STAGE
    assert "`nox -s evaluate` writes it" in (staged / "gate/report.md").read_text()
    assert "`nox -s deploy` writes it" in (staged / "card/model-card.md").read_text()
    drift = (staged / "monitor/index.md").read_text()
    assert "`reports/monitor/report.html` is not written yet: `nox -s monitor -- BATCH.csv`" in drift
    assert (staged / "index.md").read_text() == "# My Model\n"
    assert (staged / "intended-use.md").read_text() == "# Intended use\n"


def test_the_drift_report_is_staged_from_the_configured_report_dir(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# My Model\n")
    write(tmp_path, "out/drift/report.html", "<!doctype html><title>drift</title><p>moved</p>")
    write(tmp_path, "reports/monitor/report.html", "<!doctype html><title>stale default</title>")
    missing = site.stage(tmp_path, "out/drift")
    assert "Drift report" not in [page.title for page in missing]
    staged = tmp_path / site.STAGE / "monitor"
    assert "<p>moved</p>" in (staged / "report.html").read_text()
    assert "(`out/drift/report.html`)" in (staged / "index.md").read_text()


def test_present_sources_are_staged_with_links_pointing_into_the_site(tmp_path: Path) -> None:
    project = full_project(tmp_path)
    write(project, f"{site.STAGE}/stale.md", "# left from an earlier run\n")
    assert site.stage(project) == []
    staged = project / site.STAGE
    index = (staged / "index.md").read_text()
    assert "Read the contract (`contract.yaml`), `params.yaml`,\n" in index  # not in the site: text
    assert "the [intended use](intended-use.md#limits), the [last verdict](gate/report.md)," in index
    assert "[the uv docs](https://docs.astral.sh/uv/); see [Layout](#layout)." in index
    assert "Inline code stays: `[x](contract.yaml)`." in index
    assert 'echo "[not a link](contract.yaml)"' in index
    assert "Back to [the README](index.md)." in (staged / "intended-use.md").read_text()
    assert "See [the intended use](intended-use.md)." in (staged / "faq.md").read_text()
    assert "![ROC](roc.png)" in (staged / "gate/report.md").read_text()
    assert (staged / "gate/roc.png").read_bytes() == PNG
    assert not (staged / "gate/report.html").exists()  # MkDocs writes the page there
    assert "Based on [the gate report](../gate/report.md)." in (staged / "card/model-card.md").read_text()
    drift = project / "reports/monitor/report.html"
    assert (staged / "monitor/report.html").read_bytes() == drift.read_bytes()
    frame = (staged / "monitor/index.md").read_text()
    assert "[Open the report on its own](report.html)" in frame
    assert '<iframe src="report.html"' in frame
    assert not (staged / "stale.md").exists()


def test_mkdocs_nav_names_the_staged_pages(tmp_path: Path) -> None:
    mkdocs_config(tmp_path)
    config = yaml.safe_load((tmp_path / "mkdocs.yml").read_text())
    assert config["site_name"] == "My Model"
    assert config["docs_dir"] == site.STAGE
    assert config["nav"] == [{page.title: page.path} for page in site.PAGES]
    assert config["theme"] == {"name": "material", "font": False}  # no Google Fonts: builds offline


@pytest.mark.parametrize("sources", ["none", "all"])
def test_strict_mkdocs_build_of_the_staged_site(tmp_path: Path, sources: str) -> None:
    project = full_project(tmp_path) if sources == "all" else tmp_path
    mkdocs_config(project)
    site.stage(project)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    built = project / "site"
    index = (built / "index.html").read_text()
    for page in site.PAGES:
        html = page.path.removesuffix(".md") + ".html"
        assert (built / html).is_file()
        assert f'href="{html}"' in index  # in the nav of the front page
    if sources == "all":
        assert (built / "gate/roc.png").read_bytes() == PNG
        assert (built / "monitor/report.html").is_file()
        assert (built / "faq.html").is_file()
