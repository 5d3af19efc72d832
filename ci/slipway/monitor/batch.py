"""Read a production batch with its size bounded before the work: rows counted first, ragged rows refused.

A batch comes from outside the project, so it is checked before pandas reads it: a CSV is streamed
once with the csv module (stopping past `max_rows`), which also finds rows whose number of fields
differs from the header's (pandas would fill the gaps with missing values, or shift the columns);
a Parquet file's row count comes from its footer. Too few rows make the drift tests noise.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from slipway.config import MonitorConfig
from slipway.contract.coerce import read_table
from slipway.contract.schema import ContractError

if TYPE_CHECKING:
    import pandas as pd


def csv_rows(path: Path, limit: int) -> int:
    """Data rows of a CSV (blank lines skipped, as pandas does), counting up to `limit + 1`.

    A row whose number of fields is not the header's is refused naming its line.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            width = len(next(reader, []))
            rows = 0
            for row in reader:
                if not row:
                    continue
                if len(row) != width:
                    raise ContractError(
                        f"{path} line {reader.line_num}: {len(row)} fields where the header has {width}:"
                        " fix or drop that row"
                    )
                rows += 1
                if rows > limit:
                    break
            return rows
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ContractError(f"{path} is not a readable csv table: {str(exc).splitlines()[0][:200]}") from None


def parquet_rows(path: Path) -> int | None:
    """Rows a Parquet file's footer declares, or None when it cannot say (read_table reports why)."""
    try:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # a bad file: read_table names it in one line
        return None


def read_batch(path: Path, config: MonitorConfig) -> pd.DataFrame:
    """The batch as a frame, refused in one line when ragged, larger than max_rows or below min_rows."""
    suffix = path.suffix.lower()
    if path.is_file() and path.stat().st_size > 0:
        rows = csv_rows(path, config.max_rows) if suffix == ".csv" else None
        rows = parquet_rows(path) if suffix == ".parquet" else rows
        if rows is not None and rows > config.max_rows:
            raise ContractError(
                f"{path} has more than {config.max_rows} rows ([tool.slipway.monitor] max_rows):"
                " monitor a sample or smaller batches, or raise max_rows"
            )
    frame = read_table(path)
    if len(frame) < config.min_rows:
        raise ContractError(
            f"{path} has {len(frame)} rows, fewer than [tool.slipway.monitor] min_rows = {config.min_rows}:"
            " drift tests on so few rows are noise; send a larger batch or lower min_rows"
        )
    return frame
