"""The data contract on tables the tests make: inference, the YAML form, checks, typing, bad tables.

No project is rendered here: these are the rules every project's `validate` stage, the copy task
and `nox -s data-adopt` rely on, run on mixed-type tables and scikit-learn's bundled sets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from slipway.contract import ContractError, load_contract
from slipway.contract.check import check_no_overlap, validate
from slipway.contract.coerce import features, label_indices, read_table, target
from slipway.contract.infer import infer_contract
from slipway.contract.sample import sample_frame
from slipway.contract.schema import dump_contract, parse_contract, to_dict

from tests.tables import mixed_table, sklearn_table, write

LABEL_KINDS = ["2-class", "3-class", "5-class", "bool", "int", "regression"]


@pytest.mark.parametrize("labels", LABEL_KINDS)
def test_mixed_table_gets_roles_types_and_task(labels: str) -> None:
    frame = mixed_table(labels)
    contract = infer_contract(frame, "target")
    roles = {c.name: (c.role, c.type, c.nullable) for c in contract.columns}
    assert roles == {
        "customer_id": ("identifier", "string", False),
        "age": ("feature", "integer", True),
        "income": ("feature", "float", True),
        "city": ("feature", "string", True),
        "member": ("feature", "boolean", True),
        "source": ("ignored", "string", False),
    }
    assert contract.column("city").categories == ("Lisbon", "Oslo", "Rome", "Tunis", "Vilnius")  # type: ignore[union-attr]
    expected = {
        "2-class": ["alpha", "beta"],
        "3-class": ["alpha", "beta", "gamma"],
        "5-class": ["alpha", "beta", "delta", "epsilon", "gamma"],
        "bool": [False, True],
        "int": [0, 10, 20],
        "regression": [],
    }[labels]
    assert contract.labels == expected
    assert contract.task == ("regression" if labels == "regression" else "classification")
    validate(frame, contract)


@pytest.mark.parametrize("labels", LABEL_KINDS)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_yaml_round_trip_and_typed_reading(tmp_path: Path, labels: str, suffix: str) -> None:
    path = write(mixed_table(labels), tmp_path / f"table{suffix}")
    frame = read_table(path)
    contract = infer_contract(frame, "target", table=path.name)
    (tmp_path / "contract.yaml").write_text(dump_contract(contract))
    again = load_contract(tmp_path / "contract.yaml")
    assert again == contract
    assert parse_contract(to_dict(contract)) == contract
    x = features(frame, again)
    assert list(x.columns) == ["age", "income", "city", "member"]
    assert [str(t) for t in x.dtypes] == ["float64", "float64", "object", "float64"]
    assert x["city"].isna().any()
    assert set(x["member"].dropna()) == {0.0, 1.0}
    y = target(frame, again)
    if contract.is_classification:
        assert set(y) == set(contract.labels)
        assert set(label_indices(y, contract)) == set(range(len(contract.labels)))
    else:
        assert y.dtype == np.float64


@pytest.mark.parametrize(("name", "task", "labels"), [
    ("iris", "classification", ["setosa", "versicolor", "virginica"]),
    ("wine", "classification", [0, 1, 2]),
    ("diabetes", "regression", []),
])  # fmt: skip
def test_bundled_sets(name: str, task: str, labels: list[object]) -> None:
    frame = sklearn_table(name)
    contract = infer_contract(frame, "target")
    assert (contract.task, contract.labels) == (task, labels)
    assert all(c.role == "feature" for c in contract.columns)
    # iris repeats one example: the check is off, and the split drops the repeat
    assert contract.no_duplicate_rows == (name != "iris")
    validate(frame, contract)


def test_ranges_are_widened_and_stay_non_negative() -> None:
    frame = pd.DataFrame({"x": np.linspace(10.0, 20.0, 40), "y": [0, 1] * 20})
    spec = infer_contract(frame, "y").column("x")
    assert spec is not None
    assert spec.range == (5.0, 25.0)
    frame["x"] = np.linspace(1.0, 9.0, 40)
    spec = infer_contract(frame, "y").column("x")
    assert spec is not None
    assert spec.range == (0.0, 13.0)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(columns=["income"]), "column 'income' is missing"),
        (lambda f: f.assign(extra=1), "column 'extra' is not in the contract"),
        (lambda f: f.assign(income=f["income"].astype(object).where(f.index != 3, "lots")), "type float"),
        (lambda f: f.assign(income=f["income"].where(f.index != 3, -1e9)), "breaks in_range"),
        (lambda f: f.assign(city=f["city"].where(f.index != 3, "Atlantis")), "'Atlantis'"),
        (lambda f: f.assign(customer_id=f["customer_id"].where(f.index != 3, None)), "not_nullable"),
        (lambda f: f.assign(target=f["target"].where(f.index != 3, "omega")), "breaks labels"),
        (lambda f: f.assign(target=f["target"].astype(object).where(f.index != 3, None)), "the target"),
        (lambda f: f.assign(target="alpha"), "class_balance"),
        (lambda f: pd.concat([f, f.iloc[:2]], ignore_index=True), "no_duplicate_rows"),
    ],
    ids=["missing column", "extra column", "type", "range", "category", "null", "label", "null label",
         "one class", "duplicates"],
)  # fmt: skip
def test_broken_tables_are_refused_in_one_line(edit: object, message: str) -> None:
    frame = mixed_table("3-class")
    contract = infer_contract(frame, "target")
    with pytest.raises(ContractError) as error:
        validate(edit(frame), contract)  # type: ignore[operator]
    assert message in str(error.value)
    assert str(error.value).startswith("data contract:")
    assert "\n" not in str(error.value)


def test_overlap_between_train_and_holdout_is_refused_ignoring_ids() -> None:
    frame = mixed_table("2-class")
    contract = infer_contract(frame, "target")
    train, test = frame.iloc[:300], frame.iloc[300:].copy()
    check_no_overlap(train, test, contract)
    leaked = train.iloc[:2].assign(customer_id=["new-1", "new-2"])  # same example, another id
    with pytest.raises(ContractError, match=r"no_train_test_overlap \(2 holdout rows"):
        check_no_overlap(train, pd.concat([test, leaked]), contract)


@pytest.mark.parametrize("labels", LABEL_KINDS)
def test_sampled_rows_meet_the_contract(labels: str) -> None:
    contract = infer_contract(mixed_table(labels), "target")
    sample = sample_frame(contract, rows=150, seed=3)
    validate(sample, contract)
    if contract.is_classification:
        assert set(target(sample, contract)) == set(contract.labels)


def _bad(frame: pd.DataFrame, **changes: object) -> pd.DataFrame:
    return frame.assign(**changes)


@pytest.mark.parametrize(
    ("table", "target_column", "task", "message"),
    [
        (mixed_table("3-class"), "label", None, "target column 'label' is not in the table"),
        (_bad(mixed_table("3-class"), target="alpha"), "target", None, "one value ('alpha') in every row"),
        (mixed_table("regression"), "target", "classification", "that is regression"),
        (mixed_table("3-class"), "target", "regression", "regression needs numbers"),
        (_bad(mixed_table("int"), target=np.arange(400)), "target", "classification", "too many classes"),
        (mixed_table("3-class")[["customer_id", "source", "target"]], "target", None, "no usable feature"),
        (mixed_table("3-class").head(12), "target", None, "fewer than 20"),
        (_bad(mixed_table("3-class"), target=["alpha"] * 398 + ["beta"] * 2), "target", None, "has 2 rows"),
    ],
    ids=["no target column", "one class", "regression meant", "strings for regression", "many classes",
         "no feature", "too few rows", "rare class"],
)  # fmt: skip
def test_bad_tables_are_refused_naming_the_fix(
    table: pd.DataFrame, target_column: str, task: str | None, message: str
) -> None:
    with pytest.raises(ContractError) as error:
        infer_contract(table, target_column, task)  # type: ignore[arg-type]
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"a,b,target\n", "has no rows"),
        (b"\x00\x01\x02 not a table \xff", "not a readable csv table"),
    ],
)
def test_unreadable_files_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    with pytest.raises(ContractError, match=message):
        read_table(path)
    with pytest.raises(ContractError, match=r"expected a \.csv or \.parquet table"):
        read_table(tmp_path / "table.xlsx")
    with pytest.raises(ContractError, match="not found"):
        read_table(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(task="clustering"), "task must be one of classification, regression"),
        (lambda d: d["columns"]["age"].update(role="label"), "columns.age.role must be one of"),
        (lambda d: d["columns"]["age"].update(range=[5, 1]), "columns.age.range must be [low, high]"),
        (lambda d: d["target"].update(labels=["alpha"]), "target.labels must list at least two classes"),
        (lambda d: d["target"].update(labels=[1, 2, 3]), "must all be string values"),
        (lambda d: d.update(colour="red"), "unknown key 'colour'"),
        (lambda d: [c.update(role="ignored") for c in d["columns"].values()], "no column with role: feature"),
    ],
)
def test_a_broken_contract_file_is_one_line(tmp_path: Path, edit: object, message: str) -> None:
    data = to_dict(infer_contract(mixed_table("3-class"), "target"))
    edit(data)  # type: ignore[operator]
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ContractError) as error:
        load_contract(path)
    assert message in str(error.value)
    assert str(error.value).startswith(f"{path}:")
    path.write_text("task: [unclosed\n")
    with pytest.raises(ContractError, match="is not valid YAML"):
        load_contract(path)
