"""Where a project's report pages live: one definition for their writers, the docs site and the PR poster.

Stdlib only (the docs site stages pages in nox's own process).
"""

GATE_DIR = "reports/gate"  # `evaluate`: the gate report and its PNG plots
GATE_MARKDOWN, GATE_HTML = "report.md", "report.html"
CARD_DIR = "reports/card"  # `deploy` and `rollback`: the champion's model card
CARD_MARKDOWN, CARD_HTML = "model-card.md", "model-card.html"
MONITOR_DIR = "reports/monitor"  # `monitor`'s default ([tool.slipway.monitor] report_dir)
MONITOR_HTML = "report.html"
