"""The estimator: missing values imputed, categories one-hot encoded, then a random forest.

Configured only from params.yaml and the contract: the contract says which columns are numbers
(booleans count as 0/1) and which are categories, and whether the task is classification or
regression. Categories the model never saw are ignored at prediction time, not an error.
"""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder
from slipway.contract import Contract

from .params import ModelParams

FORESTS = {"classification": RandomForestClassifier, "regression": RandomForestRegressor}
MISSING = "(missing)"  # the category a missing string becomes


def build_model(params: ModelParams, contract: Contract) -> Pipeline:
    """A fresh, unfitted pipeline; the seed makes refits bit-for-bit repeatable."""
    numbers = [c.name for c in contract.features if not c.categorical]
    categories = [c.name for c in contract.features if c.categorical]
    prepare = ColumnTransformer(
        [
            ("numbers", SimpleImputer(strategy="median"), numbers),
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=MISSING),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categories,
            ),
        ],
        verbose_feature_names_out=False,
    )
    forest = FORESTS[contract.task](
        n_estimators=params.n_estimators,
        max_depth=params.max_depth,
        min_samples_leaf=params.min_samples_leaf,
        random_state=params.seed,
        n_jobs=1,
    )
    return Pipeline([("prepare", prepare), ("forest", forest)])
