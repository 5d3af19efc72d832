"""The monitor's report: report.json for machines, report.html (tables + plots) for people."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from slipway.monitor.check import MonitorResult, Predictions, category_labels
from slipway.monitor.tables import Tables
from slipway.report.page import document, figure_tag, png, pyplot
from slipway.report.page import fmt as _fmt

MAX_PLOTS = 12  # drifted features first, then the largest PSI


def _plots(result: MonitorResult, tables: Tables, predictions: Predictions | None) -> list[str]:
    """Overlaid distributions (reference vs batch) as <figure> tags with base64 PNGs."""
    import numpy as np
    import pandas as pd

    def histogram(title: str, ref: Any, new: Any, categorical: bool) -> str:
        figure, axis = pyplot().subplots(figsize=(4.2, 2.6))
        if categorical:  # lists of category names, None where missing
            ref_counts, new_counts = (
                pd.Series([v for v in side if v is not None], dtype=object).value_counts(normalize=True)
                for side in (ref, new)
            )
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
                ref_values[np.isfinite(ref_values)],
                bins=edges,
                density=True,
                alpha=0.55,
                label="reference",
            )
            axis.hist(
                new_values[np.isfinite(new_values)],
                bins=edges,
                density=True,
                alpha=0.55,
                label="batch",
            )
        axis.set_title(title, fontsize=9)
        axis.legend(fontsize=7)
        axis.tick_params(labelsize=7)
        return figure_tag(title, png(figure))

    figures = []
    if predictions is not None and result.prediction is not None:
        title = f"champion's {predictions.of} (PSI {_fmt(result.prediction.psi)})"
        figures.append(histogram(title, predictions.reference, predictions.batch, predictions.categorical))
    ranked = sorted(
        result.features,
        key=lambda f: (not f.drifted, -(f.drift.psi if math.isfinite(f.drift.psi) else 0)),
    )
    for feature in ranked[:MAX_PLOTS]:
        title = f"{feature.name} (PSI {_fmt(feature.drift.psi)}){' DRIFT' if feature.drifted else ''}"
        ref, new = tables.reference[feature.name], tables.batch[feature.name]
        if feature.kind == "categorical":
            figures.append(
                histogram(
                    title,
                    category_labels(ref, feature.type),
                    category_labels(new, feature.type),
                    True,
                )
            )
        else:
            figures.append(histogram(title, ref, new, False))
    return figures


def _prediction(result: MonitorResult) -> str:
    """The prediction drift section: the statistic, and the share of each predicted class."""
    drift = result.prediction
    if drift is None:
        return f"<p>Not computed: {html.escape(result.prediction_note)}</p>"
    test = "KS" if drift.test == "ks" else "chi-square"
    text = (
        f"<p>The champion's {html.escape(result.prediction_of)} (version"
        f" {html.escape(result.model_version)}): PSI {_fmt(drift.psi)}, {test} {_fmt(drift.statistic)}"
        f" (p = {_fmt(drift.p_value)}).</p>"
    )
    if result.prediction_shares:
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td><td>{ref:.1%}</td><td>{new:.1%}</td></tr>"
            for label, (ref, new) in result.prediction_shares.items()
        )
        text += (
            "<table><thead><tr><th>predicted class</th><th>reference</th><th>batch</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return text


def _schema(result: MonitorResult) -> str:
    """Missing, mistyped and unnamed columns, and categories the contract does not list."""
    items = []
    if result.missing_columns:
        items.append(f"<li>Missing in the batch: {html.escape(', '.join(result.missing_columns))}</li>")
    for column, why in result.type_errors.items():
        items.append(f"<li>Wrong type in {html.escape(column)}: {html.escape(why)}</li>")
    for column, values in result.unseen_categories.items():
        shown = ", ".join(html.escape(repr(v)) for v in values)
        items.append(f"<li>Categories of {html.escape(column)} not in the contract: {shown}</li>")
    if result.extra_columns:
        items.append(
            f"<li>Not in the contract (ignored): {html.escape(', '.join(result.extra_columns))}</li>"
        )
    return "".join(items) or "<li>Every feature present, with its type and known categories.</li>"


def render_html(
    result: MonitorResult, tables: Tables, batch_name: str, predictions: Predictions | None
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
            f'<tr class="{"bad" if bad else ""}"><td>{html.escape(f.name)}</td><td>{f.type}</td>'
            f"<td>{f.kind}</td><td>{_fmt(f.drift.psi)}</td><td>{f.drift.test} {_fmt(f.drift.statistic)}</td>"
            f"<td>{_fmt(f.drift.p_value)}</td><td>{f.missing_reference:.1%} → {f.missing_batch:.1%}</td>"
            f"<td>{'yes' if bad else ''}</td></tr>"
        )
    figures = "".join(_plots(result, tables, predictions))
    body = f"""<p>{result.batch_rows} batch rows against {result.reference_rows} reference rows;
features and their types from {html.escape(result.contract or "the contract")}.</p>
{verdict}
<h2>Columns</h2><ul>{_schema(result)}</ul>
<h2>Prediction drift</h2>{_prediction(result)}
<h2>Features</h2>
<table><thead><tr><th>feature</th><th>type</th><th>kind</th><th>PSI</th><th>test statistic</th>
<th>p-value</th><th>missing</th><th>past threshold</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<h2>Distributions</h2><div class="grid">{figures}</div>
"""
    return document(f"Drift report: {batch_name}", body)


def write(
    result: MonitorResult,
    out_dir: Path,
    tables: Tables,
    batch_name: str,
    predictions: Predictions | None = None,
) -> tuple[Path, Path]:
    """report.json (the result, with `passed` and `problems`) and report.html, in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    json_path.write_text(json.dumps({"batch": batch_name, **result.to_json()}, indent=2) + "\n")
    html_path.write_text(render_html(result, tables, batch_name, predictions))
    return json_path, html_path
