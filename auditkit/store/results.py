"""Reading and writing the item-level results table, with every check (docs/run-format.md)."""
from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.probes.kinds import kind_names
from auditkit.store.schema import COLUMN_DEFAULTS, REQUIRED_COLUMNS, RESULT_COLUMNS

NOT_NULL = ("model", "probe", "kind", "category", "item", "failed")
INT_COLUMNS = ("chosen", "n_options", "harmful")


def write_results(path: Path, results: pd.DataFrame) -> Path:
    """Write the RESULT_COLUMNS of ``results`` atomically (a temp file renamed into place); an
    optional column ``results`` lacks is written with its default (COLUMN_DEFAULTS)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    lacking = {c: d for c, d in COLUMN_DEFAULTS.items() if c not in results.columns}
    full = results.assign(**lacking).astype({c: RESULT_COLUMNS[c] for c in lacking})
    full[list(RESULT_COLUMNS)].to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def read_results(path: Path, models: Collection[str]) -> pd.DataFrame:
    """Every column of RESULT_COLUMNS, checked; an optional column a run lacks takes its
    default (COLUMN_DEFAULTS), so runs written before it read as they did."""
    if not path.is_file():
        raise AuditError(path, "missing: expected the item-level results written by 'auditkit run'")
    try:
        names = set(pq.read_schema(path).names)
    except Exception as err:  # pyarrow raises several types for a damaged file
        raise AuditError(path, f"not a readable Parquet file ({err})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ValidationError([Problem(str(path), "missing column (see docs/run-format.md)",
                                       field=c) for c in missing])
    try:
        results = pd.read_parquet(path, columns=[c for c in RESULT_COLUMNS if c in names])
    except Exception as err:
        raise AuditError(path, f"not a readable Parquet file ({err})") from None
    check_results(path, results, models)
    for col, default in COLUMN_DEFAULTS.items():
        if col not in results.columns:
            results[col] = default
    # the reports quote replies: text, never a missing value
    results["output"] = results["output"].fillna("").astype(str)
    ordered: pd.DataFrame = results[list(RESULT_COLUMNS)]
    return ordered


def check_results(path: Path, df: pd.DataFrame, models: Collection[str]) -> None:
    """Types, known kinds and models, one row per (model, probe, item); all problems at once."""
    if df.empty:
        raise AuditError(path, "no rows: expected one row per (model, probe, item)")
    where = str(path)
    problems = [Problem(where, "expected no missing values", field=c)
                for c in NOT_NULL if df[c].isna().any()]
    if not pd.api.types.is_bool_dtype(df["failed"]):
        problems.append(Problem(where, f"expected bool, found {df['failed'].dtype}",
                                field="failed"))
    problems += [Problem(where, f"expected int64, found {df[c].dtype}", field=c)
                 for c in INT_COLUMNS if c in df and not pd.api.types.is_integer_dtype(df[c])]
    if "harmful" in df and pd.api.types.is_integer_dtype(df["harmful"]) and not df[
            "harmful"].isin((-1, 0, 1)).all():
        problems.append(Problem(where, "expected 1 (harmful), 0 (not) or -1 (not judged)",
                                field="harmful"))
    kinds = kind_names()                   # the registered probe kinds
    bad_kind = sorted(set(pd.unique(df["kind"].dropna())) - set(kinds))
    if bad_kind:
        problems.append(Problem(where, f"expected one of {', '.join(kinds)}, found "
                                       f"{', '.join(map(str, bad_kind[:3]))}", field="kind"))
    unknown = sorted(set(pd.unique(df["model"].dropna())) - set(models))
    if unknown:
        problems.append(Problem(where, f"models not in manifest.json: "
                                       f"{', '.join(map(str, unknown[:5]))}", field="model"))
    dup = df.duplicated(["model", "probe", "item"])
    if dup.any():
        row = df[dup].iloc[0]
        problems.append(Problem(where, f"duplicate row for model {row['model']!r} of probe "
                                       f"{row['probe']!r}", field="item", item=str(row["item"])))
    if problems:
        raise ValidationError(problems)
