"""Fewer marks than rows where no reader can see them all at once, and the sentence that says so (pure).

A chart with more than MAX_POINTS points draws a seeded random sample of them, spread over its categories in
proportion to their sizes (every category keeps at least one point), and says so on the chart; a table with more
than MAX_TABLE_ROWS rows shows its first rows and says so. The data tables and downloads hold every row. The
limits sit far above what the bundled dataset produces, so at its size nothing is left out and no note is shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Points one chart draws at most (the bundled dataset's largest chart has 212). At or below charts.WEBGL_POINTS,
#: so a page of eight such charts stays SVG: no WebGL context per chart (measured in Chromium at 100×: 1,000 SVG
#: points per chart changed filters as fast as 200, 2,000 WebGL points took about twice as long).
MAX_POINTS = 1000
#: Rows a page table shows at most (the bundled dataset's largest such table has a few hundred).
MAX_TABLE_ROWS = 1000
#: Strata one forest plot draws at most (the bundled dataset has 10; 431 at 100× made a plot 34,000 px tall).
MAX_FOREST_STRATA = 60
#: Questions on the pooled-answers chart (one row each); the answers table beside it lists them all.
MAX_POOLED_ANSWERS = 25
#: The sample's seed: the same rows give the same sample in every session and every run.
SAMPLE_SEED = 24


def quotas(sizes: list[int] | np.ndarray, limit: int) -> np.ndarray:
    """How many rows each group keeps: at least one per non-empty group, the rest in proportion to the groups'
    sizes beyond that one, rounded by largest remainder so the quotas add up to limit (all rows when they fit)."""
    sizes = np.asarray(sizes, dtype=int)
    if sizes.sum() <= limit:
        return sizes.copy()
    base = np.minimum(sizes, 1)
    if base.sum() >= limit:  # more groups than points: one point for each of the first `limit` groups
        return np.where(np.cumsum(base) <= limit, base, 0)
    extra = sizes - base
    share = extra * (limit - base.sum()) / extra.sum()
    quota = base + np.floor(share).astype(int)
    remainder = share - np.floor(share)
    quota[np.argsort(-remainder, kind="stable")[: limit - quota.sum()]] += 1
    return quota


def seeded_sample(
    rows: pd.DataFrame, limit: int = MAX_POINTS, by: list[str] | None = None, seed: int = SAMPLE_SEED
) -> pd.DataFrame:
    """All rows when there are at most limit; else limit of them drawn at random (numpy default_rng(seed), without
    replacement) within each group of `by` (its quota), kept in their original order."""
    if len(rows) <= limit:
        return rows
    rng = np.random.default_rng(seed)
    if not by:
        return rows.iloc[np.sort(rng.choice(len(rows), size=limit, replace=False))]
    groups = list(rows.reset_index(drop=True).groupby(by, sort=True, dropna=False).indices.values())
    keep = []
    for positions, quota in zip(groups, quotas([len(g) for g in groups], limit), strict=True):
        keep.append(rng.choice(positions, size=quota, replace=False))
    return rows.iloc[np.sort(np.concatenate(keep))]


def sample_note(total: int, limit: int = MAX_POINTS, what: str = "points") -> str:
    """What seeded_sample(rows, limit) leaves out, said on the chart: '' when it draws every row, else e.g.
    'Showing 1,000 of 21,758 points, a seeded random sample; the data table and CSV hold all.'"""
    if total <= limit:
        return ""
    return f"Showing {limit:,} of {total:,} {what}, a seeded random sample; the data table and CSV hold all."


def first_rows(frame: pd.DataFrame, limit: int = MAX_TABLE_ROWS) -> tuple[pd.DataFrame, str]:
    """The first limit rows of a table and a note saying how many are shown ('' when all are)."""
    if len(frame) <= limit:
        return frame, ""
    return frame.head(limit), f"Showing the first {limit:,} of {len(frame):,} rows; the page's downloads hold all."


def largest(frame: pd.DataFrame, column: str, limit: int) -> pd.DataFrame:
    """All rows when there are at most limit; else the limit rows with the largest `column` (ties: the first
    listed), kept in their original order."""
    if len(frame) <= limit:
        return frame
    order = np.argsort(-frame[column].to_numpy(dtype=float), kind="stable")[:limit]
    return frame.iloc[np.sort(order)]


def largest_note(total: int, limit: int, what: str, by: str) -> str:
    """What largest(frame, column, limit) leaves out, said on the chart: '' when nothing, else e.g. 'Showing the
    60 of 431 strata with the most comparisons; the table below and CSV hold all.'"""
    if total <= limit:
        return ""
    return f"Showing the {limit:,} of {total:,} {what} with the most {by}; the table below and CSV hold all."
