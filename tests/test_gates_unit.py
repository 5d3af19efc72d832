"""The gate logic on constructed data: metric forms (against scikit-learn), bootstrap decisions, the
naive baseline, the verdict lines, config errors and the project's api as the gates call it."""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from slipway.config import ConfigError, GatesConfig, load_gates
from slipway.contract import ColumnSpec, Contract, ContractError, TargetSpec
from slipway.contract.schema import dump_contract
from slipway.errors import SlipwayError
from slipway.gates.baseline import baseline_scores
from slipway.gates.checks import Check
from slipway.gates.compare import paired_bootstrap
from slipway.gates.evaluate import failure_line, gate_metrics, versus
from slipway.gates.metrics import metric_for, metrics_for
from slipway.project import Project

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)


def classification(labels: tuple[int | str | bool, ...]) -> Contract:
    kind = "string" if isinstance(labels[0], str) else "integer"
    return Contract(
        task="classification",
        target=TargetSpec("target", kind, labels=labels),  # type: ignore[arg-type]
        columns=(ColumnSpec("x", "feature", "float"), ColumnSpec("city", "feature", "string")),
    )


REGRESSION = Contract(
    task="regression",
    target=TargetSpec("target", "float"),
    columns=(ColumnSpec("x", "feature", "float"), ColumnSpec("city", "feature", "string")),
)


# ---- parity with the project's own metrics (scikit-learn) -------------------------------------------


def template_metrics() -> ModuleType:
    """The template's `metrics.py`, the sklearn calls every project's `api.score` makes."""
    path = ROOT / "template" / "src" / "{{ package_name }}" / "metrics.py"
    spec = importlib.util.spec_from_file_location("slipway_template_metrics", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def probabilities(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Rows drawn from a small pool (ties in every column), with an argmax tie and 0/1 probabilities."""
    pool = rng.dirichlet(np.ones(k), size=8)
    pool = np.vstack([pool, np.full(k, 1 / k), np.eye(k)[0], np.eye(k)[k - 1]])
    return pool[rng.integers(0, len(pool), n)]


def labels_with_every_class(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    return y


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("seed", range(6))
def test_classification_metrics_match_the_projects_sklearn_metrics(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 400))
    y, scores = labels_with_every_class(rng, n, k), probabilities(rng, n, k)
    contract = classification(tuple(range(k)))
    expected = template_metrics().score(y, scores, contract)
    ours = {name: m.compute(y, scores) for name, m in metrics_for("classification", k).items()}
    assert set(ours) == set(expected)
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=1e-9, rel=1e-9), name


@pytest.mark.parametrize("k", [2, 3, 5])
def test_a_class_neither_true_nor_predicted_counts_as_zero_f1(k: int) -> None:
    from sklearn.metrics import f1_score

    y = np.array([0, 1, 0, 1, 1, 0])  # classes 2.. are neither in y nor predicted
    scores = np.zeros((6, k))
    scores[np.arange(6), [0, 1, 1, 1, 0, 0]] = 1.0
    average = "binary" if k == 2 else "macro"
    expected = f1_score(y, scores.argmax(axis=1), average=average, labels=list(range(k)), zero_division=0)
    assert metric_for("f1", "classification", k).compute(y, scores) == pytest.approx(expected, abs=1e-9)


def test_ovr_auc_averages_only_the_classes_a_resample_has() -> None:
    y = np.array([0, 1, 0, 1, 0, 1])  # class 2 absent: sklearn says NaN, the bootstrap form skips it
    scores = np.array(
        [[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.5, 0.4, 0.1], [0.1, 0.3, 0.6]]
    )
    from sklearn.metrics import roc_auc_score

    per_class = [roc_auc_score(y == c, scores[:, c]) for c in (0, 1)]
    assert metric_for("roc_auc", "classification", 3).compute(y, scores) == pytest.approx(np.mean(per_class))
    assert np.isnan(metric_for("roc_auc", "classification", 3).compute(np.zeros(4, int), scores[:4]))


@pytest.mark.parametrize("seed", range(6))
def test_regression_metrics_match_the_projects_sklearn_metrics(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    y = rng.normal(100, 30, n)
    predictions = np.round(y + rng.normal(0, 20, n), -1)  # rounded: many ties
    expected = template_metrics().score(y, predictions, REGRESSION)
    ours = {name: m.compute(y, predictions) for name, m in metrics_for("regression", 0).items()}
    assert set(ours) == set(expected)
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=1e-9, rel=1e-9), name


@pytest.mark.parametrize("predictions", [[5.0, 5.0, 5.0], [5.0, 6.0, 5.0]], ids=["exact", "off"])
def test_r2_of_a_constant_target_is_finite_like_sklearn(predictions: list[float]) -> None:
    from sklearn.metrics import r2_score

    y, p = np.full(3, 5.0), np.array(predictions)
    assert metric_for("r2", "regression", 0).compute(y, p) == r2_score(y, p)


def brute_force_auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_rank_auc_matches_the_pairwise_definition_with_ties() -> None:
    y = RNG.integers(0, 2, 60)
    s = np.round(RNG.random(60), 1)  # many ties
    scores = np.column_stack([1 - s, s])
    assert metric_for("roc_auc", "classification", 2).compute(y, scores) == pytest.approx(
        brute_force_auc(y, s)
    )


def test_regression_metrics() -> None:
    y, s = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 6.0])
    metrics = metrics_for("regression", 0)
    assert metrics["rmse"].compute(y, s) == pytest.approx(1.0)
    assert metrics["mae"].compute(y, s) == pytest.approx(0.5)
    assert metrics["r2"].compute(y, s) == pytest.approx(1 - 4 / 5)
    assert not metrics["rmse"].greater_is_better
    assert not metrics_for("classification", 3)["log_loss"].greater_is_better


@pytest.mark.parametrize(
    ("name", "task", "k", "message"),
    [
        (
            "rmse",
            "classification",
            3,
            "cannot compare on 'rmse': classification metrics are roc_auc, accuracy, f1, log_loss",
        ),
        ("roc_auc", "regression", 0, "cannot compare on 'roc_auc': regression metrics are rmse, mae, r2"),
    ],
)
def test_a_metric_the_task_lacks_is_refused_in_one_line(name: str, task: str, k: int, message: str) -> None:
    with pytest.raises(SlipwayError) as info:
        metric_for(name, task, k)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("gates", "contract", "message"),
    [
        (GatesConfig(primary_metric="r2"), classification((0, 1)), "cannot compare on 'r2': classification"),
        (GatesConfig(guarded=(("accuracy", 0.1),)), REGRESSION, "cannot compare on 'accuracy': regression"),
    ],
)
def test_gate_settings_naming_another_tasks_metric_fail_before_scoring(
    gates: GatesConfig, contract: Contract, message: str
) -> None:
    with pytest.raises(SlipwayError, match=re.escape(message)) as info:
        gate_metrics(gates, contract)
    assert "\n" not in str(info.value)


def test_the_task_decides_the_default_primary_metric() -> None:
    assert gate_metrics(GatesConfig(), classification(("a", "b", "c"))).primary.name == "roc_auc"
    assert gate_metrics(GatesConfig(), REGRESSION).primary.name == "rmse"
    assert (
        gate_metrics(GatesConfig(primary_metric="log_loss"), classification((0, 1))).primary.name
        == "log_loss"
    )


# ---- the paired bootstrap --------------------------------------------------------------------------


def binary_case(n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = RNG.integers(0, 2, n)
    strong = np.clip(y * 0.6 + RNG.normal(0.2, 0.2, n), 0, 1)
    weak = np.clip(y * 0.15 + RNG.normal(0.4, 0.25, n), 0, 1)
    return y, np.column_stack([1 - strong, strong]), np.column_stack([1 - weak, weak])


def three_class_case(n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True-class logit boosts of 3 (strong) and 0.3 (weak) over noise, as probabilities."""
    y = RNG.integers(0, 3, n)

    def model(boost: float) -> np.ndarray:
        logits = RNG.normal(0, 1, (n, 3))
        logits[np.arange(n), y] += boost
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    return y, model(3.0), model(0.3)


def bootstrap(metric: str, y: np.ndarray, reference: np.ndarray, candidate: np.ndarray, k: int = 2):
    task = "regression" if reference.ndim == 1 else "classification"
    return paired_bootstrap(
        metric_for(metric, task, k), y, reference, candidate, samples=500, confidence=0.95, seed=1
    )


def test_clearly_better_candidate_has_a_positive_lower_bound() -> None:
    y, strong, weak = binary_case()
    result = bootstrap("roc_auc", y, reference=weak, candidate=strong)
    assert result.improvement > 0.1
    assert 0 < result.low < result.improvement < result.high


def test_clearly_worse_candidate_has_a_negative_upper_bound() -> None:
    y, strong, weak = binary_case()
    result = bootstrap("roc_auc", y, reference=strong, candidate=weak)
    assert result.high < 0


@pytest.mark.parametrize("metric", ["roc_auc", "accuracy", "f1", "log_loss"])
def test_bootstrap_resamples_rows_of_three_class_probability_matrices(metric: str) -> None:
    y, strong, weak = three_class_case()
    better = bootstrap(metric, y, reference=weak, candidate=strong, k=3)
    assert 0 < better.low < better.improvement < better.high
    worse = bootstrap(metric, y, reference=strong, candidate=weak, k=3)
    assert worse.low < worse.improvement < worse.high < 0
    assert (better.reference, better.candidate) == (worse.candidate, worse.reference)
    if metric == "log_loss":
        assert better.candidate < better.reference  # lower is better: a drop counts as improvement


def test_identical_models_give_a_zero_interval() -> None:
    y, strong, _ = binary_case()
    result = bootstrap("roc_auc", y, reference=strong, candidate=strong.copy())
    assert (result.low, result.improvement, result.high) == (0.0, 0.0, 0.0)


def test_noise_level_difference_straddles_zero() -> None:
    rng = np.random.default_rng(7)
    y, strong, _ = binary_case()

    def jittered() -> np.ndarray:
        p = np.clip(strong[:, 1] + rng.normal(0, 0.05, len(y)), 0, 1)
        return np.column_stack([1 - p, p])

    result = bootstrap("roc_auc", y, reference=jittered(), candidate=jittered())  # equally good models
    assert result.low < 0 < result.high


def test_lower_is_better_metrics_count_a_drop_as_improvement() -> None:
    y = RNG.normal(100, 30, 200)
    close, far = y + RNG.normal(0, 5, 200), y + RNG.normal(0, 40, 200)
    result = bootstrap("rmse", y, reference=far, candidate=close)
    assert result.low > 0
    assert result.candidate < result.reference


def test_same_seed_same_interval() -> None:
    y, strong, weak = binary_case()
    assert bootstrap("roc_auc", y, weak, strong) == bootstrap("roc_auc", y, weak, strong)


# ---- the naive baseline ----------------------------------------------------------------------------


def test_baseline_gives_every_row_the_training_class_shares_in_label_order() -> None:
    contract = classification(("a", "b", "c"))
    scores = baseline_scores(["c", "a", "c", "c"], contract, rows=5)  # "b" never seen: share 0
    assert scores.shape == (5, 3)
    np.testing.assert_allclose(scores, np.tile([0.25, 0.0, 0.75], (5, 1)))


def test_baseline_matches_sklearns_dummy_models() -> None:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    train = RNG.integers(0, 4, 97)
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((97, 1)), train)
    expected = dummy.predict_proba(np.zeros((3, 1)))
    np.testing.assert_allclose(baseline_scores(train, classification((0, 1, 2, 3)), 3), expected)
    values = RNG.normal(10, 3, 50)
    regressor = DummyRegressor().fit(np.zeros((50, 1)), values)
    np.testing.assert_allclose(baseline_scores(values, REGRESSION, 4), regressor.predict(np.zeros((4, 1))))


def test_baseline_refuses_a_label_outside_the_contract_and_an_empty_target() -> None:
    with pytest.raises(ContractError, match="label 'z' is not one of 'a', 'b'"):
        baseline_scores(["a", "z"], classification(("a", "b")), 3)
    with pytest.raises(SlipwayError, match="training table has no rows"):
        baseline_scores([], REGRESSION, 3)


def test_a_real_model_beats_the_baseline_and_the_verdict_line_says_so() -> None:
    y, strong, _ = three_class_case()
    naive = baseline_scores(y, classification((0, 1, 2)), len(y))
    gates = GatesConfig(bootstrap_samples=200)
    primary = metric_for("roc_auc", "classification", 3)
    result, check = versus("baseline", gates, primary, y, naive, strong)
    assert result.comparison.reference == pytest.approx(0.5)
    assert check.passed
    assert check.name == "roc_auc vs baseline (CI low >= 0)"
    _, same = versus("baseline", gates, primary, y, naive, naive.copy())
    assert same.passed  # equal to the baseline: the interval is [0, 0], which reaches 0
    _, stricter = versus("baseline", GatesConfig(min_improvement=0.01), primary, y, naive, naive.copy())
    assert not stricter.passed


# ---- the failure line ------------------------------------------------------------------------------


def failed(against: str, name: str) -> Check:
    return Check(name, "", "", "", "", False, against)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("checks", "champion", "line"),
    [
        (
            [failed("thresholds", "threshold roc_auc >= 0.8")],
            None,
            "evaluate: FAIL against thresholds (no champion yet): threshold roc_auc >= 0.8;"
            " registry unchanged",
        ),
        (
            [failed("baseline", "rmse vs baseline (CI low >= 0)")],
            None,
            "evaluate: FAIL against the naive baseline (no champion yet): rmse vs baseline (CI low >= 0);"
            " registry unchanged",
        ),
        (
            [
                failed("thresholds", "threshold r2 >= 0.3"),
                failed("baseline", "rmse vs baseline (CI low >= 0)"),
            ],
            None,
            "evaluate: FAIL against thresholds (no champion yet) and the naive baseline: threshold r2 >= 0.3;"
            " rmse vs baseline (CI low >= 0); registry unchanged",
        ),
        (
            [failed("champion", "roc_auc vs champion (CI low >= 0)"), failed("baseline", "x")],
            "1",
            "evaluate: FAIL against champion version 1 and the naive baseline: roc_auc vs champion"
            " (CI low >= 0); x; registry unchanged",
        ),
    ],
)
def test_the_failure_line_names_what_failed(checks: list[Check], champion: str | None, line: str) -> None:
    assert failure_line(checks, champion) == line


# ---- [tool.slipway.gates] --------------------------------------------------------------------------


def write(tmp_path: Path, gates: str | None) -> Path:
    path = tmp_path / "pyproject.toml"
    table = "" if gates is None else f"\n[tool.slipway.gates]\n{gates}\n"
    path.write_text(f'[tool.slipway]\npackage = "m"\n{table}')
    return path


def test_gates_config_parses_thresholds_with_direction(tmp_path: Path) -> None:
    config = load_gates(
        write(tmp_path, 'primary_metric = "rmse"\nthresholds = { rmse = { max = 70 }, r2 = { min = 0.3 } }\n')
    )
    assert [str(t) for t in config.thresholds] == ["rmse <= 70", "r2 >= 0.3"]
    assert config.confidence == 0.95
    assert config.bootstrap_samples == 1000
    assert config.primary("classification") == "rmse"  # set explicitly: the task does not override it


@pytest.mark.parametrize(
    "gates", [None, "", "min_improvement = 0.0"], ids=["no table", "empty", "no primary"]
)
def test_gates_defaults_beat_the_baseline_on_the_tasks_metric(tmp_path: Path, gates: str | None) -> None:
    config = load_gates(write(tmp_path, gates))
    assert config.primary_metric is None
    assert config.primary("classification") == "roc_auc"
    assert config.primary("regression") == "rmse"
    assert config.baseline is True
    assert config.train == "data/processed/train.csv"
    assert config.holdout == "data/processed/test.csv"


def test_gates_baseline_and_train_can_be_set(tmp_path: Path) -> None:
    config = load_gates(write(tmp_path, 'baseline = false\ntrain = "data/train.parquet"'))
    assert config.baseline is False
    assert config.train == "data/train.parquet"


@pytest.mark.parametrize(
    ("gates", "message"),
    [
        ("confidence = 2", "confidence must be a number in [0.5, 0.999], got 2"),
        ("confidense = 0.9", "unknown key 'confidense'"),
        ("thresholds = { roc_auc = 0.9 }", "thresholds.roc_auc must be {min = X} or {max = X}"),
        ('thresholds = { roc_auc = { min = "high" } }', "thresholds.roc_auc.min must be a number"),
        ("bootstrap_samples = 5", "bootstrap_samples must be an integer 100-100000, got 5"),
        ("guarded = { accuracy = -1 }", "guarded.accuracy must be a number"),
        ("primary_metric = 3", "primary_metric must be a metric name, got 3"),
        ('primary_metric = ""', "primary_metric must be a metric name, got ''"),
        ('baseline = "yes"', "baseline must be true or false, got 'yes'"),
        ("train = 3", "train must be a path relative to the project, got 3"),
        ('holdout = ""', "holdout must be a path relative to the project, got ''"),
        ("baselines = true", "unknown key 'baselines': expected one of baseline, bootstrap_samples"),
    ],
)
def test_bad_gates_config_is_one_line(tmp_path: Path, gates: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_gates(write(tmp_path, gates))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_gates_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.slipway]\npackage = "m"\ngates = 3\n')
    with pytest.raises(ConfigError, match=r"\[tool.slipway.gates\] must be a table, got 3"):
        load_gates(path)


# ---- the project's api, as the gates call it -------------------------------------------------------

API = """
import numpy as np

TRUSTED_TYPES = []

def predict_scores(model, features, contract):
    if model == "bad":
        return np.zeros(len(features))
    p = np.clip(features["x"].fillna(0.5).to_numpy(), 0, 1)
    return np.column_stack([1 - p, p])

def score(y_true, scores, contract):
    predicted = np.asarray(contract.labels)[scores.argmax(axis=1)]
    return {"accuracy": float(np.mean(predicted == np.asarray(y_true)))}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Project]:
    """A project whose package `slipway_unit_pkg.api` scores on column x, with string labels."""
    package = tmp_path / "src" / "slipway_unit_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "api.py").write_text(API)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    for name in ("slipway_unit_pkg", "slipway_unit_pkg.api"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    (tmp_path / "pyproject.toml").write_text('[tool.slipway]\npackage = "slipway_unit_pkg"\n')
    (tmp_path / "contract.yaml").write_text(dump_contract(classification(("no", "yes"))))
    processed = tmp_path / "data" / "processed"
    processed.mkdir(parents=True)
    (processed / "test.csv").write_text("x,city,target,extra\n0.9,Oslo,yes,1\n0.2,,no,2\n,Rome,yes,3\n")
    (processed / "train.csv").write_text(
        "x,city,target,extra\n0.1,Oslo,no,1\n0.8,Rome,yes,2\n0.3,Oslo,no,3\n"
    )
    return lambda: Project.load(tmp_path)


def test_project_reads_the_holdout_as_the_contract_types_it(project: Callable[[], Project]) -> None:
    features, target = project().holdout()
    assert list(features.columns) == ["x", "city"]
    assert features["x"].dtype == np.float64
    assert features["city"].isna().tolist() == [False, True, False]
    assert target.tolist() == ["yes", "no", "yes"]
    assert project().train_target().tolist() == ["no", "yes", "no"]


def test_project_scores_and_metrics_go_through_its_api(project: Callable[[], Project]) -> None:
    loaded = project()
    features, target = loaded.holdout()
    scores = loaded.scores("a model", features, "runs:/abc/model")
    np.testing.assert_allclose(scores[:, 1], [0.9, 0.2, 0.5])
    assert loaded.metrics(target, scores) == {"accuracy": pytest.approx(2 / 3)}
    with pytest.raises(SlipwayError, match=r"predict_scores gave shape \(3,\) for bad, expected \(3, 2\)"):
        loaded.scores("bad", features, "bad")


def test_missing_tables_are_one_line(project: Callable[[], Project]) -> None:
    loaded = project()
    (loaded.root / loaded.gates.train).unlink()
    with pytest.raises(SlipwayError, match=r"no training table: data/processed/train.csv is missing"):
        loaded.train_target()
