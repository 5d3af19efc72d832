"""The monitor's report: report.json for machines, report.html (tables + plots) for people."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from slipway.monitor.check import MonitorResult

MAX_PLOTS = 12  # drifted features first, then the largest PSI

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.verdict{padding:.8rem 1rem;border-radius:.4rem;font-weight:600}
.pass{background:#e6f4ea;color:#1e6b34}.fail{background:#fdecea;color:#a11d1d}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}tr.bad td{background:#fff3f2}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem}
figure{margin:0}figcaption{font-size:.85rem;color:#555}img{width:100%}
"""


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}g}"


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _plots(result: MonitorResult, reference: Any, batch: Any, scores: tuple[Any, Any] | None) -> list[str]:
    """Overlaid distributions (reference vs batch) as <figure> tags with base64 PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    def histogram(title: str, ref: Any, new: Any, categorical: bool) -> str:
        figure, axis = plt.subplots(figsize=(4.2, 2.6))
        if categorical:
            ref_counts = ref.astype(str).value_counts(normalize=True)
            new_counts = new.astype(str).value_counts(normalize=True)
            labels = sorted(set(ref_counts.index) | set(new_counts.index))[:20]
            x = np.arange(len(labels))
            axis.bar(x - 0.2, [ref_counts.get(k, 0) for k in labels], 0.4, label="reference")
            axis.bar(x + 0.2, [new_counts.get(k, 0) for k in labels], 0.4, label="batch")
            axis.set_xticks(x, labels, rotation=45, fontsize=7)
        else:
            ref_values = np.asarray(ref, dtype=float)
            new_values = np.asarray(new, dtype=float)
            both = np.concatenate([ref_values[np.isfinite(ref_values)], new_values[np.isfinite(new_values)]])
            edges = np.histogram_bin_edges(both, bins=30) if both.size else 10
            axis.hist(
                ref_values[np.isfinite(ref_values)], bins=edges, density=True, alpha=0.55, label="reference"
            )
            axis.hist(
                new_values[np.isfinite(new_values)], bins=edges, density=True, alpha=0.55, label="batch"
            )
        axis.set_title(title, fontsize=9)
        axis.legend(fontsize=7)
        axis.tick_params(labelsize=7)
        encoded = _png(figure)
        plt.close(figure)
        return f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{encoded}"></figure>'

    figures = []
    if scores is not None and result.prediction is not None:
        figures.append(
            histogram(f"champion's scores (PSI {_fmt(result.prediction.psi)})", scores[0], scores[1], False)
        )
    ranked = sorted(
        result.features, key=lambda f: (not f.drifted, -(f.drift.psi if math.isfinite(f.drift.psi) else 0))
    )
    for feature in ranked[:MAX_PLOTS]:
        title = f"{feature.name} (PSI {_fmt(feature.drift.psi)}){' DRIFT' if feature.drifted else ''}"
        figures.append(
            histogram(title, reference[feature.name], batch[feature.name], feature.kind == "categorical")
        )
    return figures


def render_html(
    result: MonitorResult, reference: Any, batch: Any, batch_name: str, scores: tuple[Any, Any] | None
) -> str:
    problems = result.problems()
    verdict = (
        '<p class="verdict pass">No drift past the thresholds.</p>'
        if not problems
        else '<p class="verdict fail">' + "<br>".join(html.escape(p) for p in problems) + "</p>"
    )
    rows = []
    for f in result.features:
        bad = f.drifted or f.missing_drifted
        rows.append(
            f'<tr class="{"bad" if bad else ""}"><td>{html.escape(f.name)}</td><td>{f.kind}</td>'
            f"<td>{_fmt(f.drift.psi)}</td><td>{f.drift.test} {_fmt(f.drift.statistic)}</td>"
            f"<td>{_fmt(f.drift.p_value)}</td><td>{f.missing_reference:.1%} → {f.missing_batch:.1%}</td>"
            f"<td>{'yes' if bad else ''}</td></tr>"
        )
    schema = []
    if result.missing_columns:
        schema.append(f"<li>Missing in the batch: {html.escape(', '.join(result.missing_columns))}</li>")
    if result.extra_columns:
        schema.append(
            f"<li>Not in the reference (ignored): {html.escape(', '.join(result.extra_columns))}</li>"
        )
    for column, (old, new) in result.dtype_changes.items():
        schema.append(f"<li>{html.escape(column)}: {html.escape(old)} → {html.escape(new)}</li>")
    if result.prediction is not None:
        prediction = (
            f"<p>PSI {_fmt(result.prediction.psi)}, KS {_fmt(result.prediction.statistic)} "
            f"(p = {_fmt(result.prediction.p_value)}) for version {html.escape(result.model_version)}.</p>"
        )
    else:
        prediction = f"<p>Not computed: {html.escape(result.prediction_note)}</p>"
    figures = "".join(_plots(result, reference, batch, scores))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report: {html.escape(batch_name)}</title>
<style>{STYLE}</style></head><body>
<h1>Drift report: {html.escape(batch_name)}</h1>
<p>{result.batch_rows} batch rows against {result.reference_rows} reference rows.</p>
{verdict}
<h2>Schema</h2><ul>{"".join(schema) or "<li>Same columns and types as the reference.</li>"}</ul>
<h2>Prediction drift</h2>{prediction}
<h2>Features</h2>
<table><thead><tr><th>feature</th><th>kind</th><th>PSI</th><th>test statistic</th><th>p-value</th>
<th>missing</th><th>past threshold</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<h2>Distributions</h2><div class="grid">{figures}</div>
</body></html>
"""


def write(
    result: MonitorResult,
    out_dir: Path,
    reference: Any,
    batch: Any,
    batch_name: str,
    scores: tuple[Any, Any] | None = None,
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    json_path.write_text(json.dumps({"batch": batch_name, **result.to_json()}, indent=2) + "\n")
    html_path.write_text(render_html(result, reference, batch, batch_name, scores))
    return json_path, html_path
