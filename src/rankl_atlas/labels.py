"""The one rule for naming a study on screen, in charts and in citations (pure)."""

from __future__ import annotations

import pandas as pd

NO_YEAR = "n.d."
SHORT_TITLE_WORDS = 3


def year_text(year: object) -> str:
    """'2004', or '' when the year was not printed on any page read."""
    return "" if year is None or pd.isna(year) else str(int(year))


def study_label_map(studies: pd.DataFrame) -> pd.Series:
    """study_id -> 'Surname Year'; without an author, the title's first words + '…' + year; without a year,
    'n.d.' (no date), e.g. 'Schett 2004', 'The Relationship Between… 2012', 'Jabbar n.d.'."""
    author = studies["first_author"].astype("string").str.strip().replace("", pd.NA)
    short_title = studies["title"].astype(str).str.split().str[:SHORT_TITLE_WORDS].str.join(" ") + "…"
    name = author.fillna(pd.Series(short_title.to_numpy(), index=studies.index, dtype="string"))
    years = studies["year"].astype("Int64").astype("string").fillna(NO_YEAR)
    text = name.astype(str) + " " + years.astype(str)
    return pd.Series(text.to_numpy(), index=studies["study_id"].to_numpy())


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """'1 study', '2 studies', '0 findings'."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
