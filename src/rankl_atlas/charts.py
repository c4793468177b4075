"""Plotly figures and the tables behind them (pure: frames in, figures or frames out)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from rankl_atlas.decimate import (
    MAX_FOREST_STRATA,
    MAX_POOLED_ANSWERS,
    largest,
    largest_note,
    sample_note,
    seeded_sample,
)
from rankl_atlas.labels import study_label_map
from rankl_atlas.schema import (
    ANALYTE,
    COLOURS,
    COMPARISON_FAMILY,
    CONCENTRATION_UNITS,
    CONDITION_GROUP,
    DIRECTION_CLASS,
    DIRECTION_CLASS_COLOUR,
    DIRECTION_CLASS_LABEL,
    DISEASE_AREA,
    DISEASE_AREA_OF,
    EXCLUSION_REASON,
    GROUP_ROLE,
    MEASURED_ANALYTE,
    ORIGIN_VISITOR,
    RELATED_TO,
    STUDY_KIND,
    UNIT,
    UNITS,
    label,
)
from rankl_atlas.synthesis import convert_unit

FONT = dict(family="sans-serif", size=13)
#: The trace types the atlas draws, and the layout parts its charts use: the chart template keeps plotly_white's
#: settings for these and nothing else (tests/app/test_chart_template.py checks every chart on every page).
DRAWN_TRACES = ("bar", "scatter", "scattergl")
DRAWN_LAYOUT = (
    "annotationdefaults", "autotypenumbers", "colorway", "font", "hoverlabel", "hovermode", "paper_bgcolor",
    "plot_bgcolor", "shapedefaults", "title", "xaxis", "yaxis",
)  # fmt: skip
TEMPLATE = "rankl_atlas"


def atlas_template() -> go.layout.Template:
    """plotly_white cut to what the atlas draws: the same look for its bar and scatter charts.

    The whole plotly_white is ≈ 7 KB of defaults for about 40 trace types and for 3-D, polar, map and colour-scale
    axes the atlas never draws: 9/10 of a small chart's specification, sent with every chart on every filter change,
    and ≈ 9 ms to validate per figure on the server (≈ 3 ms for this one).
    """
    white = pio.templates["plotly_white"].to_plotly_json()
    return go.layout.Template(
        layout={key: value for key, value in white["layout"].items() if key in DRAWN_LAYOUT},
        data={key: value for key, value in white["data"].items() if key in DRAWN_TRACES},
    )


pio.templates[TEMPLATE] = atlas_template()
TEMPLATE_SPEC = pio.templates[TEMPLATE].to_plotly_json()  # for figures built without validation (_figure)
WEBGL_POINTS = 1000
EMPTY_CELL_COLOUR = "#F2F2F2"


def _house_layout(**kwargs) -> dict:
    """The atlas's layout settings (font, template, margins, legend on top) with a chart's own on top of them."""
    settings = {
        "font": FONT,
        "template": TEMPLATE,
        "margin": dict(l=10, r=10, t=40, b=10),
        "legend": dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    }
    return {**settings, **kwargs}


def _layout(fig: go.Figure, **kwargs) -> go.Figure:
    fig.update_layout(**_house_layout(**kwargs))
    return fig


def _figure(data: list[dict], note: str = "", validate: bool = True, **layout) -> go.Figure:
    """One figure from plain trace dicts and layout settings, validated by Plotly in one pass: ≈ 3–5× faster than
    adding traces and updates one by one (each re-validates), which was most of a chart's first build at 100×
    the data. note: a line above the chart on what it leaves out (_note_above)."""
    layout = _house_layout(**layout)
    if note:
        margin = layout.get("margin") or {}
        above = _note_layout(note, margin.get("t", 40))
        layout.update(title=above["title"], margin={**margin, **above["margin"]})
    if not validate:
        layout["template"] = TEMPLATE_SPEC
    return go.Figure(data=data, layout=layout, _validate=validate)


def _say_sampled(fig: go.Figure, total: int) -> go.Figure:
    """When a chart draws a sample of its total rows (decimate.seeded_sample), say so in a line above it."""
    return _note_above(fig, sample_note(total))


def _note_layout(note: str, top: float) -> dict:
    """Layout entries for a note above the chart, the top margin `top` grown to hold it."""
    return dict(
        title=dict(
            text=note, x=0, xref="paper", xanchor="left", y=1, yref="container", yanchor="top",
            pad=dict(t=6), font=dict(size=11, color="#555555"),
        ),
        margin=dict(t=(top or 40) + 22),
    )  # fmt: skip


def _note_above(fig: go.Figure, note: str) -> go.Figure:
    """A note on what the chart leaves out, in a line above it ('' draws nothing)."""
    if note:
        fig.update_layout(**_note_layout(note, fig.layout.margin.t))
    return fig


def study_labels(studies: pd.DataFrame) -> pd.Series:
    """'Surname Year' per study_id, e.g. 'Schett 2004' (the one study-label rule, shared with synthesis)."""
    return study_label_map(studies)


def with_study(frame: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Rows with their study's label, year, first author, species and disease beside them (a new frame).

    ``disease`` is the study's condition group: the one meaning of "disease" used by the filter and every
    chart row (a finding's own condition_group, e.g. the controls' 'healthy population', stays beside it).
    """
    info = studies[["study_id", "first_author", "year", "species", "ref_no", "condition_group"]].rename(
        columns={"condition_group": "disease"}
    )
    info = info.assign(study=study_labels(studies).to_numpy())
    return frame.merge(info, on="study_id", how="left")


def hover(template: str, columns: list[str]) -> str:
    """A Plotly hovertemplate written with column names: '{study}' becomes '%{customdata[i]}'."""
    for i, name in enumerate(columns):
        template = template.replace("{" + name + "}", f"%{{customdata[{i}]}}")
    return template + "<extra></extra>"


# --- Overview --------------------------------------------------------------------------------


def studies_per_year(studies: pd.DataFrame) -> pd.DataFrame:
    """Count of studies per publication year and disease area (long form)."""
    small = pd.DataFrame(  # two columns only: assign() on the whole studies frame was a third of the page's CPU
        {
            "year": studies["year"].to_numpy(),
            "disease_area": studies["condition_group"].map(DISEASE_AREA_OF).fillna("other").to_numpy(),
        }
    )
    grouped = small.groupby(["year", "disease_area"], observed=True).size().reset_index(name="studies")
    grouped["area"] = grouped["disease_area"].map(DISEASE_AREA)
    return grouped.sort_values(["year", "disease_area"]).reset_index(drop=True)


def build_studies_per_year(studies: pd.DataFrame) -> go.Figure:
    """Stacked bars: studies per year, coloured by disease area (8 colour-blind-safe colours), integer axes."""
    table = studies_per_year(studies)
    fig = go.Figure()
    for code, name in DISEASE_AREA.items():
        part = table[table["disease_area"] == code]
        if part.empty:
            continue
        fig.add_bar(
            x=part["year"],
            y=part["studies"],
            width=0.8,
            name=name,
            marker_color=COLOURS["disease_area"][code],
            customdata=part[["disease_area"]].to_numpy(),
            hovertemplate="%{x}: %{y} stud(ies)<br>" + name + "<extra></extra>",
        )
    years = table["year"]
    span = int(years.max() - years.min()) if len(years) else 0
    fig.update_xaxes(title="Publication year", dtick=1 if span <= 12 else 5 if span <= 40 else 10, tickformat="d")
    fig.update_yaxes(title="Studies", rangemode="tozero", tickformat="d", dtick=_count_dtick(table, "year"))
    return _layout(
        fig,
        barmode="stack",
        height=420,
        legend=dict(
            orientation="h",
            yanchor="top",
            y=-0.24,
            x=0,
            font=dict(size=11),
            title=dict(text="Disease area", side="top left"),  # the title above the entries, clear of the axis title
        ),
        margin=dict(l=10, r=10, t=20, b=10),
    )


def _count_dtick(table: pd.DataFrame, by: str, column: str = "studies") -> int | None:
    """A whole-number tick step for a count axis (1 when the tallest stack is small, so labels never repeat)."""
    tallest = table.groupby(by)[column].sum().max() if len(table) else 0
    return 1 if tallest <= 10 else None


def studies_by_kind(studies: pd.DataFrame) -> pd.DataFrame:
    """Studies per study kind, in vocabulary order, with labels."""
    counts = studies["study_kind"].value_counts()
    rows = [(code, STUDY_KIND[code], int(counts.get(code, 0))) for code in STUDY_KIND]
    return pd.DataFrame(rows, columns=["study_kind", "kind", "studies"])


def build_studies_by_kind(studies: pd.DataFrame) -> go.Figure:
    """Horizontal bars: how many studies of each kind the atlas holds."""
    table = studies_by_kind(studies)
    table = table[table["studies"] > 0]
    fig = go.Figure(
        go.Bar(
            x=table["studies"],
            y=table["kind"],
            orientation="h",
            marker_color=[COLOURS["study_kind"][c] for c in table["study_kind"]],
            text=table["studies"],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    tallest = int(table["studies"].max()) if len(table) else 1
    fig.update_xaxes(title="Studies", tickformat="d", range=[0, tallest * 1.18], dtick=1 if tallest <= 10 else None)
    return _layout(fig, height=300, showlegend=False, margin=dict(l=10, r=30, t=40, b=10))


# --- Evidence map and harvest plot: one grid ------------------------------------------------------

#: Chart columns: RANKL, OPG, and one ratio column (RANKL:OPG) holding both orientations.
MAP_ANALYTES = {"rankl": "RANKL", "opg": "OPG", "ratio": "RANKL:OPG"}
#: In the relates-to view the "condition" row holds only cases vs controls; condition findings of another family
#: (patient subgroups, change over time) get their own row.
CONDITION_OTHER = "condition_other"
MAP_RELATED_TO = {
    "condition": RELATED_TO["condition"],
    CONDITION_OTHER: "Condition: subgroups or course (not vs controls)",
    **{code: text for code, text in RELATED_TO.items() if code != "condition"},
}
MAP_ROWS = {"condition_group": CONDITION_GROUP, "related_to": MAP_RELATED_TO}
CLASS_SYMBOL = {"up": "↑", "down": "↓", "null": "=", "undetectable": "∅", "unstated": "?"}
#: One direction-class order for both charts (the harvest plot reads it left to right: ↓ = ↑ ∅ ?).
CLASS_ORDER = ("down", "null", "up", "undetectable", "unstated")
CELL_WIDTH = 5.0
#: Horizontal offset of each class inside its cell: five distinct slots, so no square hides another.
CLASS_OFFSET = {cls: -1.8 + 0.9 * i for i, cls in enumerate(CLASS_ORDER)}
FLIPPED = {
    "higher": "lower",
    "lower": "higher",
    "positive_association": "negative_association",
    "negative_association": "positive_association",
    "predicts_when_high": "predicts_when_low",
    "predicts_when_low": "predicts_when_high",
    "increase": "decrease",
    "decrease": "increase",
}


def oriented_findings(findings: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Findings with chart columns: map_analyte (ratios in one RANKL:OPG column), map_direction (OPG/RANKL
    findings flipped to the RANKL:OPG orientation; the paper's own direction stays in ``direction``),
    direction_class, study label and the study's disease."""
    rows = with_study(findings, studies)
    is_ratio = rows["analyte"].isin(["rankl_opg_ratio", "opg_rankl_ratio"])
    flipped = rows["analyte"] == "opg_rankl_ratio"
    rows["map_analyte"] = rows["analyte"].where(~is_ratio, "ratio")
    rows["map_direction"] = rows["direction"].where(~flipped, rows["direction"].map(FLIPPED).fillna(rows["direction"]))
    rows["direction_class"] = rows["map_direction"].map(DIRECTION_CLASS)
    rows["orientation"] = np.where(
        flipped, "paper: OPG/RANKL " + rows["direction"].astype(str) + " (shown flipped)", "as published"
    )
    family = rows["comparison_family"] if "comparison_family" in rows else pd.Series("", index=rows.index)
    other = (rows["related_to"] == "condition") & (family != "cases_vs_controls")
    rows["map_related"] = rows["related_to"].astype(object).where(~other.fillna(False).astype(bool), CONDITION_OTHER)
    return rows


def _row_column(rows: str) -> str:
    return {"condition_group": "disease", "related_to": "map_related"}[rows]


def evidence_matrix(findings: pd.DataFrame, studies: pd.DataFrame, rows: str = "condition_group") -> pd.DataFrame:
    """One row per (row category, analyte column) cell: studies and findings per direction class.

    Rows are the study's disease ('condition_group' view) or what the finding relates to. Counts are
    studies (a study with nine findings in one class counts once); findings are kept for the hover.
    Cells with no findings are included for every row category present, with n_findings 0.
    """
    column = _row_column(rows)
    work = oriented_findings(findings, studies)
    seen = set(work[column].dropna().unique())  # once, not once per vocabulary code
    present = [code for code in MAP_ROWS[rows] if code in seen]
    grid = pd.MultiIndex.from_product([present, list(MAP_ANALYTES)], names=["row", "analyte"]).to_frame(index=False)
    keys = [column, "map_analyte"]
    per_class_studies = _tally(work, keys, "nunique", "studies_")
    per_class_findings = _tally(work, keys, "size", "findings_")
    cell = (
        work.groupby(keys, observed=True)
        .agg(n_studies=("study_id", "nunique"), n_findings=("finding_id", "size"), study_ids=("study_id", _ids))
        .rename_axis(["row", "analyte"])
        .reset_index()
    )
    matrix = grid.merge(cell, on=["row", "analyte"], how="left")
    for extra in (per_class_studies, per_class_findings):
        matrix = matrix.merge(extra, on=["row", "analyte"], how="left")
    count_columns = [f"{p}{c}" for p in ("studies_", "findings_") for c in CLASS_ORDER] + ["n_studies", "n_findings"]
    for name in count_columns:
        matrix[name] = matrix[name].fillna(0).astype(int) if name in matrix else 0
    matrix["study_ids"] = matrix["study_ids"].fillna("").astype(str)
    matrix["summary_class"] = matrix.apply(_summary_class, axis=1)
    matrix["row_label"] = matrix["row"].map(MAP_ROWS[rows])
    matrix["analyte_label"] = matrix["analyte"].map(MAP_ANALYTES)
    matrix["cell_text"] = matrix.apply(_cell_text, axis=1)
    return matrix


def _ids(series: pd.Series) -> str:
    return ", ".join(sorted(set(series.tolist())))  # tolist: walking Arrow-backed values one by one was slow


def _tally(work: pd.DataFrame, keys: list[str], how: str, prefix: str) -> pd.DataFrame:
    columns = ["row", "analyte", *(prefix + c for c in CLASS_ORDER)]
    if work.empty:
        return pd.DataFrame(columns=columns)
    grouped = work.groupby([*keys, "direction_class"], observed=True)["study_id"]
    counts = grouped.nunique() if how == "nunique" else grouped.size()
    table = counts.unstack("direction_class", fill_value=0).reindex(columns=list(CLASS_ORDER), fill_value=0)
    table.columns = [prefix + c for c in table.columns]
    return table.rename_axis(index=["row", "analyte"]).reset_index()


def _summary_class(row: pd.Series) -> str:
    nonzero = [c for c in CLASS_ORDER if row[f"studies_{c}"] > 0]
    if not nonzero:
        return "none"
    return nonzero[0] if len(nonzero) == 1 else "mixed"


def _cell_text(row: pd.Series) -> str:
    if row["n_findings"] == 0:
        return "–"
    return " ".join(f"{row[f'studies_{c}']}{CLASS_SYMBOL[c]}" for c in CLASS_ORDER if row[f"studies_{c}"] > 0)


def findings_in_cell(
    findings: pd.DataFrame,
    studies: pd.DataFrame,
    rows: str,
    row_code: str,
    analyte: str,
    direction_class: str | None = None,
) -> pd.DataFrame:
    """The findings behind one evidence-map square (a cell, and one direction class when given), oldest first."""
    work = oriented_findings(findings, studies)
    keep = (work[_row_column(rows)] == row_code) & (work["map_analyte"] == analyte)
    if direction_class not in (None, "none"):
        keep &= work["direction_class"] == direction_class
    return work[keep].sort_values(["year", "study"]).reset_index(drop=True)


def families_present(findings: pd.DataFrame) -> list[str]:
    """The comparison families the findings hold, in vocabulary order."""
    seen = set(findings["comparison_family"].dropna().unique())  # unique first: iterating 100 000s of rows is slow
    return [code for code in COMPARISON_FAMILY if code in seen]


def of_family(findings: pd.DataFrame, family: str) -> pd.DataFrame:
    """The findings of one comparison family (a map square counts studies of one family and direction)."""
    return findings[findings["comparison_family"] == family]


def _square(x: float, y: float, half_width: float, half_height: float, fill: str, line: str) -> dict:
    """A filled square in data units, as a layout shape (collected and set once: add_shape one at a time
    re-validates every earlier shape, measured at 3.7 s for 200 squares)."""
    return dict(
        type="rect",
        x0=x - half_width,
        x1=x + half_width,
        y0=y - half_height,
        y1=y + half_height,
        fillcolor=fill,
        line=dict(color=line, width=1),
        layer="below",
    )


@dataclass(frozen=True)
class Grid:
    """The shared layout of the evidence map and harvest plot: named cells of CELL_WIDTH per analyte column."""

    row_codes: list[str]
    row_vocabulary: str

    def x_of(self, analyte: str) -> float:
        """Centre of an analyte column."""
        return CELL_WIDTH * list(MAP_ANALYTES).index(analyte)

    def y_of(self, code: str) -> int:
        """Row index of a row code (top row 0)."""
        return self.row_codes.index(code)

    def draw(self, fig: go.Figure, column_labels_on_top: bool = True, shapes: list[dict] | None = None) -> None:
        """Axes with row and column labels, light grid lines between cells, and the given shapes (all set at once)."""
        fig.update_xaxes(
            tickvals=[self.x_of(a) for a in MAP_ANALYTES],
            ticktext=list(MAP_ANALYTES.values()),
            range=[-CELL_WIDTH / 2 - 0.3, CELL_WIDTH * (len(MAP_ANALYTES) - 0.5) + 0.3],
            side="top" if column_labels_on_top else "bottom",
            showgrid=False,
            zeroline=False,
            fixedrange=True,
        )
        fig.update_yaxes(
            tickvals=list(range(len(self.row_codes))),
            ticktext=[
                MAP_ROWS.get(self.row_vocabulary, {}).get(c) or label(self.row_vocabulary, c) for c in self.row_codes
            ],
            range=[len(self.row_codes) - 0.5, -0.5],
            showgrid=False,
            zeroline=False,
            fixedrange=True,
        )
        lines = [
            dict(type="line", xref="x", yref="paper", x0=CELL_WIDTH * (i - 0.5), x1=CELL_WIDTH * (i - 0.5), y0=0, y1=1)
            for i in range(len(MAP_ANALYTES) + 1)
        ] + [
            dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=j - 0.5, y1=j - 0.5)
            for j in range(len(self.row_codes) + 1)
        ]
        for line in lines:
            line["line"] = dict(color="#E5E5E5", width=1)
        fig.update_layout(shapes=[*(shapes or []), *lines])


def build_evidence_map(matrix: pd.DataFrame, rows: str = "condition_group") -> go.Figure:
    """Matrix of rows × analyte; inside each cell one square per direction class, labelled with its number of
    studies (findings on hover).

    A cell with no findings shows a pale outlined square with a dash, so it never looks like a zero count.
    Every marker carries [row code, analyte code, class] first in customdata so a click maps back to its findings.
    """
    seen = set(matrix["row"].unique())
    grid = Grid([c for c in MAP_ROWS[rows] if c in seen], rows)
    fig = go.Figure()
    empty = matrix[matrix["n_findings"] == 0]
    columns = ["row", "analyte", "cls", "row_label", "analyte_label"]
    # Squares are shapes in data units, so they stay inside their cells at any width (a phone included);
    # the markers on top carry hover, click and legend.
    squares = [
        _square(x, y, 0.35, 0.3, EMPTY_CELL_COLOUR, "#BBBBBB")
        for x, y in zip(empty["analyte"].map(grid.x_of), empty["row"].map(grid.y_of), strict=True)
    ]
    if not empty.empty:
        fig.add_scatter(
            x=empty["analyte"].map(grid.x_of),
            y=empty["row"].map(grid.y_of),
            mode="markers+text",
            text=["–"] * len(empty),
            textfont=dict(color="#777777", size=10),
            marker=dict(symbol="square", size=7, color=EMPTY_CELL_COLOUR, line=dict(color="#BBBBBB", width=1)),
            name="No findings",
            customdata=empty.assign(cls="none")[columns].to_numpy(),
            hovertemplate=hover("{row_label} · {analyte_label}<br>No findings reported", columns),
        )
    columns = [*columns, "studies", "findings"]
    largest = max(1, int(matrix[[f"studies_{c}" for c in CLASS_ORDER]].to_numpy().max()) if len(matrix) else 1)
    for cls in CLASS_ORDER:
        part = matrix[matrix[f"studies_{cls}"] > 0]
        if part.empty:
            continue
        data = part.assign(cls=cls, studies=part[f"studies_{cls}"], findings=part[f"findings_{cls}"])
        xs = part["analyte"].map(grid.x_of) + CLASS_OFFSET[cls]
        ys = part["row"].map(grid.y_of)
        for x, y, n in zip(xs, ys, data["studies"], strict=True):
            grow = np.sqrt(n / largest)
            # the full slot width (0.84 of the 0.9 spacing) so a two-digit count fits inside on a phone
            squares.append(_square(x, y, 0.42, 0.2 + 0.14 * grow, DIRECTION_CLASS_COLOUR[cls], "white"))
        fig.add_scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            text=data["studies"].astype(str),
            textfont=dict(color="white" if cls in ("up", "down", "undetectable") else "black", size=9),
            marker=dict(symbol="square", size=7, color=DIRECTION_CLASS_COLOUR[cls], opacity=0.01),
            name=DIRECTION_CLASS_LABEL[cls],
            customdata=data[columns].to_numpy(),
            hovertemplate=hover(
                "{row_label} · {analyte_label}<br>{studies} stud(ies), {findings} finding(s): "
                + DIRECTION_CLASS_LABEL[cls].lower()
                + "<br>click to list",
                columns,
            ),
        )
        fig.add_scatter(  # legend swatch
            x=[None],
            y=[None],
            mode="markers",
            marker=dict(symbol="square", size=12, color=DIRECTION_CLASS_COLOUR[cls]),
            name=DIRECTION_CLASS_LABEL[cls],
            showlegend=True,
            hoverinfo="skip",
        )
        fig.data[-2].showlegend = False
    grid.draw(fig, shapes=squares)
    height = max(260, 50 * len(grid.row_codes) + 150)
    return _layout(
        fig,
        height=height,
        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0),
        clickmode="event+select",
        dragmode=False,
    )


# --- Concentrations --------------------------------------------------------------------------


#: Units that are the same quantity share one axis: 1 ng/L is exactly 1 pg/mL (no conversion, the value is kept).
SAME_AXIS_UNIT = {"ng_l": "pg_ml"}


def concentration_rows(measurements: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Measurements of RANKL or OPG with a value in a concentration unit, with study labels, assay group,
    error-bar extents as published, and axis_unit (ng/L shares the pg/mL axis: the same unit).

    Error bars: ± SD (or ± SE when only SE is given) for means; quartiles (else range) for medians. Relative
    units (NPX, RFU), ratios and values without a printed unit are left out (see relative_rows).
    """
    keep = (
        measurements["value"].notna()
        & measurements["unit"].isin(CONCENTRATION_UNITS).fillna(False).astype(bool)
        & measurements["analyte"].isin(list(MEASURED_ANALYTE)).fillna(False).astype(bool)
    )
    rows = with_study(measurements[keep], studies)
    rows["axis_unit"] = rows["unit"].map(lambda u: SAME_AXIS_UNIT.get(u, u))
    value = rows["value"].astype(float)
    spread = rows["sd"].astype(float).fillna(rows["se"].astype(float))
    low = (value - spread).where(spread.notna())
    high = (value + spread).where(spread.notna())
    low = low.fillna(rows["q1"].astype(float)).fillna(rows["min"].astype(float))
    high = high.fillna(rows["q3"].astype(float)).fillna(rows["max"].astype(float))
    rows["err_minus"] = (value - low).clip(lower=0).fillna(0.0)
    rows["err_plus"] = (high - value).clip(lower=0).fillna(0.0)
    unlabelled = (rows["spread_basis"] == "unknown").fillna(False).astype(bool) if "spread_basis" in rows else False
    rows["spread_kind"] = np.select(
        [unlabelled, rows["sd"].notna(), rows["se"].notna(), rows["q1"].notna(), rows["min"].notna()],
        ["± x (paper did not say SD or SE)", "± SD", "± SE", "IQR", "range"],
        default="none given",
    )
    rows["assay"] = (
        rows["assay_vendor"].map(lambda c: label("assay_vendor", c))
        + " · "
        + rows["analyte_form"].map(lambda c: label("analyte_form", c))
    )
    rows["unit_label"] = rows["unit"].map(UNIT)
    rows["role_label"] = rows["group_role"].map(GROUP_ROLE)
    return rows.reset_index(drop=True)


def relative_rows(measurements: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Group values that cannot sit on a concentration axis: relative units (NPX, RFU), ratios, no unit printed."""
    keep = measurements["value"].notna() & ~(
        measurements["unit"].isin(CONCENTRATION_UNITS).fillna(False).astype(bool)
        & measurements["analyte"].isin(list(MEASURED_ANALYTE)).fillna(False).astype(bool)
    )
    rows = with_study(measurements[keep], studies)
    return pd.DataFrame(
        {
            "Study": rows["study"],
            "Group": rows["group_label"],
            "Analyte": rows["analyte"].map(lambda c: label("analyte", c)),
            "Value": rows["value"],
            "Unit": rows["unit"].map(lambda c: UNIT.get(c, "not printed") if pd.notna(c) else "not printed / ratio"),
            "Statistic": rows["statistic"].map(lambda c: label("statistic", c) if pd.notna(c) else "not named"),
            "n": rows["n"],
        }
    )


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values 1-2-5 × 10^k covering [low, high], always at least two labelled ticks."""
    if not (np.isfinite(low) and np.isfinite(high)) or high <= 0:
        return [1.0, 10.0]
    low = max(low, 1e-9)
    high = max(high, low)
    ticks = [
        m * 10.0**k
        for k in range(int(np.floor(np.log10(low))) - 1, int(np.ceil(np.log10(high))) + 2)
        for m in (1, 2, 5)
    ]
    inside = [t for t in ticks if low <= t <= high]
    below = [t for t in ticks if t < low]
    above = [t for t in ticks if t > high]
    chosen = ([below[-1]] if below else []) + inside + ([above[0]] if above else [])
    if len(inside) > 6:  # wide ranges: decades only, from the decade below low to the decade above high
        chosen = [10.0**k for k in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)]
    return [float(f"{t:.6g}") for t in chosen]


def build_concentration_chart(rows: pd.DataFrame, analyte: str, unit: str) -> go.Figure:
    """Reported group values of one analyte in one unit on a log axis, by assay; cases vs controls by colour."""
    units = rows["axis_unit"] if "axis_unit" in rows else rows["unit"]  # ng/L and pg/mL share one axis
    columns = ["measurement_id", "study", "group_label", "statistic", "spread_kind", "n", "unit_label"]
    used = [
        *columns,
        "assay",
        "group_role",
        "value",
        "err_plus",
        "err_minus",
        *(["origin"] if "origin" in rows else []),
    ]
    part = rows.loc[(rows["analyte"] == analyte) & (units == unit), used]  # only the columns drawn: fast subsets
    strata = ["assay", "group_role", *(["origin"] if "origin" in part else [])]
    shown = seeded_sample(part, by=strata)  # every assay, role and owner keeps points; the axis spans them all
    yours = (
        (shown["origin"] == ORIGIN_VISITOR).to_numpy(dtype=bool) if "origin" in shown else np.zeros(len(shown), bool)
    )
    roles = shown["group_role"].to_numpy()
    # each column as an array once; every trace takes its rows by position (a pandas selection per trace was slow)
    x, y = shown["assay"].to_numpy(), shown["value"].to_numpy()
    plus, minus = shown["err_plus"].to_numpy(), shown["err_minus"].to_numpy()
    custom = shown[columns].astype(str).to_numpy()
    traces = []
    for role, mine in ((r, m) for r in GROUP_ROLE for m in (False, True)):
        at = np.flatnonzero((roles == role) & (yours == mine))
        if not len(at):
            continue
        traces.append(
            dict(
                type="scattergl" if len(shown) > WEBGL_POINTS else "scatter",  # WebGL keeps thousands of points fast
                x=x[at],
                y=y[at],
                mode="markers",  # studies are named on hover and in the data table: labels overlapped and ran off
                name=GROUP_ROLE[role] + (" (yours)" if mine else ""),
                marker=dict(
                    size=14 if mine else 11,
                    symbol="star" if mine else "circle",
                    color=COLOURS["group_role"][role],
                    line=dict(color="black" if mine else "white", width=1),
                ),
                error_y=dict(type="data", symmetric=False, array=plus[at], arrayminus=minus[at], thickness=1.2),
                customdata=custom[at],
                hovertemplate=hover(
                    "<b>{study}</b><br>{group_label} (n={n})<br>{statistic} %{y} {unit_label}<br>error bar: {spread_kind}",
                    columns,
                ),
            )
        )
    low = (part["value"] - part["err_minus"]).where(lambda v: v > 0, part["value"]).astype(float)
    high = (part["value"] + part["err_plus"]).astype(float)
    ticks = log_ticks(float(low.min()), float(high.max())) if len(part) else [1, 10]
    return _figure(
        traces,
        note=sample_note(len(part)),
        yaxis=dict(
            type="log",
            tickvals=ticks,
            ticktext=[f"{t:g}" for t in ticks],
            range=[np.log10(ticks[0]) - 0.05, np.log10(ticks[-1]) + 0.05],
            title=dict(text=f"{ANALYTE[analyte]} ({UNIT[unit]}, as published)"),
        ),
        xaxis=dict(title=dict(text="Assay vendor · analyte form")),
        height=420,
        scattermode="group",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, title=dict(text="Group")),
    )


# --- Synthesis: harvest plot and forest plot ---------------------------------------------------

MAX_HARVEST_MARKS = 1500
MAX_FOREST_ROWS = 150
HARVEST_PER_ROW = 4
HARVEST_TITLES = {"down": "↓", "null": "=", "up": "↑", "undetectable": "∅", "unstated": "?"}
FORM_SYMBOL = {"free": "diamond", "total": "triangle-up", "dimer": "star", "unspecified": "square"}


def harvest_rows(findings: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """One mark per study per disease × analyte column × direction class, with its findings counted, and its
    plotting position in the shared grid."""
    work = oriented_findings(findings, studies).sort_values(["year", "study", "finding_id"])
    keys = ["disease", "map_analyte", "direction_class", "study_id"]
    grouped = work.groupby(keys, observed=True, sort=False)
    marks = grouped.agg(
        study=("study", "first"),
        year=("year", "first"),
        n_findings=("finding_id", "size"),
        n=("n", "max"),
        assay_vendor=("assay_vendor", "first"),
        analyte_form=("analyte_form", "first"),
    )
    # Each mark's comparisons (distinct, in order) and finding ids, gathered in one pass over the rows: a Python
    # function per group inside agg() took seconds at 100× the data. ngroup() numbers the groups as agg orders them.
    comparisons: list[dict] = [{} for _ in range(len(marks))]
    finding_ids: list[list] = [[] for _ in range(len(marks))]
    for group, comparison, finding_id in zip(
        grouped.ngroup().tolist(), work["comparison"].astype(str).tolist(), work["finding_id"].tolist(), strict=True
    ):
        comparisons[group].setdefault(comparison)
        finding_ids[group].append(finding_id)
    marks["comparisons"] = pd.array(["; ".join(seen)[:200] for seen in comparisons], dtype=work["comparison"].dtype)
    marks["finding_ids"] = pd.array([", ".join(ids) for ids in finding_ids], dtype=work["finding_id"].dtype)
    rows = (
        marks.reset_index()
        .sort_values(["disease", "map_analyte", "direction_class", "year", "study"])
        .reset_index(drop=True)
    )
    cell = ["disease", "map_analyte", "direction_class"]
    rows["slot"] = rows.groupby(cell).cumcount()
    rows["cell_marks"] = rows.groupby(cell)["slot"].transform("size")
    grid = harvest_grid(rows)
    # marks fill their class slot (0.8 wide, 0.8 high) in rows of HARVEST_PER_ROW, packed closer when many
    lines = np.ceil(rows["cell_marks"] / HARVEST_PER_ROW)
    rows["dy"] = np.minimum(0.2, 0.8 / lines)
    rows["x"] = (
        rows["map_analyte"].map(grid.x_of)
        + rows["direction_class"].map(CLASS_OFFSET)
        + ((rows["slot"] % HARVEST_PER_ROW) - (HARVEST_PER_ROW - 1) / 2) * 0.2
    )
    rows["y"] = rows["disease"].map(grid.y_of) - 0.4 + rows["dy"] * (rows["slot"] // HARVEST_PER_ROW + 0.5)
    rows["n_shown"] = rows["n"].astype("Float64").fillna(0)
    rows["vendor_label"] = rows["assay_vendor"].map(lambda c: label("assay_vendor", c))
    return rows


def harvest_grid(rows: pd.DataFrame) -> Grid:
    """The grid of diseases present in the harvest rows."""
    seen = set(rows["disease"].dropna().unique())
    return Grid([c for c in CONDITION_GROUP if c in seen], "condition_group")


def build_harvest_plot(rows: pd.DataFrame) -> go.Figure:
    """Harvest plot: per disease and analyte, one mark per study in the column of its direction (findings on
    hover). Colour is the direction (as on the evidence map), size grows with n, symbol is the analyte form
    (free ◆, total ▲, unspecified ■); the kit is in the hover (most studies do not name it)."""
    grid = harvest_grid(rows)
    fig = go.Figure()
    columns = [
        "finding_ids",
        "study",
        "comparisons",
        "direction_class",
        "n_findings",
        "n",
        "analyte_form",
        "vendor_label",
    ]
    for cls in CLASS_ORDER:
        part = rows[rows["direction_class"] == cls]
        if part.empty:
            continue
        size = np.minimum((7 + 0.8 * np.sqrt(part["n_shown"].astype(float))).clip(upper=14), 60 * part["dy"])
        fig.add_scatter(
            x=part["x"],
            y=part["y"],
            mode="markers",
            name=DIRECTION_CLASS_LABEL[cls],
            marker=dict(
                size=size,
                color=DIRECTION_CLASS_COLOUR[cls],
                symbol=part["analyte_form"].map(FORM_SYMBOL).fillna("square"),
                line=dict(color="#333333", width=0.6),
            ),
            customdata=part[columns].astype(str).to_numpy(),
            hovertemplate=hover(
                "<b>{study}</b>: {n_findings} finding(s)<br>{comparisons}<br>direction: {direction_class}"
                "<br>largest n={n}<br>form: {analyte_form}, kit: {vendor_label}",
                columns,
            ),
        )
    grid.draw(fig, column_labels_on_top=False)
    fig.update_xaxes(showticklabels=False)  # the analyte names stand over their columns, above the direction marks
    titles = []  # collected and set in one layout pass (add_annotation validates the whole list each time)
    for analyte, name in MAP_ANALYTES.items():
        titles.append(dict(
            x=grid.x_of(analyte), y=1.0, yref="paper", yanchor="bottom", yshift=22, text=f"<b>{name}</b>",
            showarrow=False, font=dict(size=12),
        ))  # fmt: skip
        for cls in CLASS_ORDER:
            titles.append(
                dict(
                    x=grid.x_of(analyte) + CLASS_OFFSET[cls],
                    y=1.0,
                    yref="paper",
                    yanchor="bottom",
                    text=HARVEST_TITLES[cls],
                    showarrow=False,
                    font=dict(size=14),
                )
            )
    fig.update_layout(annotations=titles)
    return _layout(
        fig,
        height=max(320, 64 * len(grid.row_codes) + 190),
        margin=dict(l=10, r=10, t=70, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.06, x=0, title_text="Direction"),
    )


@dataclass(frozen=True)
class ForestRow:
    """One line of the forest plot: a stratum heading, a comparison or a pooled estimate, at position y."""

    y: float
    kind: str  # "stratum", "comparison", "pooled"
    text: str
    data: dict


def forest_rows(effects: pd.DataFrame, pooled: pd.DataFrame) -> list[ForestRow]:
    """The lines of the forest plot, top to bottom: per stratum a heading, its comparisons and, where
    poolable, the pooled estimate (pure: the layout as data)."""
    out, y = [], 0.0
    keys = ["analyte", "analyte_form", "assay_vendor", "unit"]
    groups = {key: part for key, part in effects.groupby(keys, sort=False)} if len(effects) else {}
    for stratum in pooled.to_dict("records"):
        part = groups.get(tuple(stratum[k] for k in keys), effects.iloc[0:0])
        heading = "<br>".join(f"<b>{line}</b>" for line in textwrap.wrap(str(stratum["stratum"]), 26))
        out.append(ForestRow(y, "stratum", heading, stratum))
        y += 1 + 0.8 * heading.count("<br>")
        for _, row in part.iterrows():
            when = f" ({row['timepoint']})" if isinstance(row.get("timepoint"), str) and row["timepoint"] else ""
            text = _wrap(f"{row['study']}{when}: {row['case_group']} vs {row['control_group']}", 26)
            out.append(ForestRow(y, "comparison", text, row.to_dict()))
            y += 1 + 0.8 * text.count("<br>")
        if stratum["poolable"]:
            text = f"<i>Pooled, {stratum['method']} (k={stratum['k_studies']})</i>"
            out.append(ForestRow(y, "pooled", text, stratum))
            y += 1
        y += 0.5
    return out


def drawable_comparisons(effects: pd.DataFrame) -> pd.DataFrame:
    """The comparisons drawn one by one: all of them up to MAX_FOREST_ROWS, else none (strata only)."""
    return effects if len(effects) <= MAX_FOREST_ROWS else effects.iloc[0:0]


def build_forest_plot(effects: pd.DataFrame, pooled: pd.DataFrame) -> go.Figure:
    """Forest plot of Hedges' g with 95% CI, grouped by stratum, with a pooled diamond where poolable.

    Derived rows (means and SDs estimated from medians) are open squares; discordant ones (their CI disagrees
    with the paper's own test) are grey. The paper's own p-value is in the hover and at the right margin.
    """
    total_strata = len(pooled)
    pooled = largest(pooled, "comparisons", MAX_FOREST_STRATA)
    lines = forest_rows(effects, pooled)
    fig = go.Figure()
    p_labels = []  # the paper's p at the right margin, set in one layout pass at the end
    comparisons = [line for line in lines if line.kind == "comparison"]
    columns = [
        "comparison_id",
        "study",
        "n_case",
        "n_control",
        "specimen",
        "assay_vendor",
        "year",
        "derivation",
        "paper",
    ]
    groups = (
        (
            "As published",
            "square",
            "#0072B2",
            lambda r: not r["derived"] and not _unresolved(r) and not r.get("discordant"),
        ),
        (
            "Derived from medians (Wan et al. 2014)",
            "square-open",
            "#0072B2",
            lambda r: r["derived"] and not r.get("discordant"),
        ),
        (
            "'±' not labelled SD or SE: unresolved, not pooled by default",
            "diamond-open",
            "#E69F00",
            lambda r: _unresolved(r) and not r.get("discordant"),
        ),
        (
            "Discordant with the paper's test (Student and Welch)",
            "x-open",
            "#8C8C8C",
            lambda r: bool(r.get("discordant")),
        ),
    )
    for name, symbol, colour, keep in groups:
        chosen = [line for line in comparisons if keep(line.data)]
        if not chosen:
            continue
        rows = pd.DataFrame([line.data for line in chosen])
        rows["paper"] = [_paper_p_text(r) for r in rows.to_dict("records")]
        if "g_if_se" in rows:
            alt = rows["g_if_se"].astype(float)
            rows["derivation"] = rows["derivation"].astype(str) + np.where(
                alt.notna(), " (read as SE instead: g = " + alt.round(2).astype(str) + ")", ""
            )
        fig.add_scatter(
            x=rows["g"],
            y=[line.y for line in chosen],
            mode="markers",
            name=name,
            marker=dict(symbol=symbol, size=10, color=colour, line=dict(color=colour, width=2)),
            error_x=dict(
                type="data", symmetric=False, array=rows["ci_high"] - rows["g"], arrayminus=rows["g"] - rows["ci_low"]
            ),
            customdata=rows.reindex(columns=columns).astype(str).to_numpy(),
            hovertemplate=hover(
                "<b>{study}</b> ({year})<br>g = %{x:.2f}<br>n {n_case} cases / {n_control} controls"
                "<br>{specimen}, kit: {assay_vendor}<br>{derivation}<br>paper's own test: {paper}",
                columns,
            ),
        )
        p_labels += [
            dict(x=1.0, xref="paper", xanchor="left", y=line.y, text=text, showarrow=False, font=dict(size=11))
            for line, text in zip(chosen, rows["paper"], strict=True)
        ]
    fig.update_layout(annotations=p_labels)
    pooled_lines = [line for line in lines if line.kind == "pooled"]
    if pooled_lines:
        rows = pd.DataFrame([line.data for line in pooled_lines])
        columns = ["stratum", "tau2", "i2_percent", "k_studies"]
        fig.add_scatter(
            x=rows["pooled_g"],
            y=[line.y for line in pooled_lines],
            mode="markers",
            name="Pooled (random effects)",
            marker=dict(symbol="diamond-wide", size=18, color="#D55E00"),
            error_x=dict(
                type="data",
                symmetric=False,
                array=rows["ci_high"] - rows["pooled_g"],
                arrayminus=rows["pooled_g"] - rows["ci_low"],
            ),
            customdata=rows[columns].to_numpy(),
            hovertemplate=(
                "%{customdata[0]}<br>pooled g = %{x:.2f}<br>τ² = %{customdata[1]:.3f}, I² = %{customdata[2]:.0f}%"
                "<br>k = %{customdata[3]}<extra></extra>"
            ),
        )
    fig.add_vline(x=0, line=dict(color="#555555", width=1, dash="dot"))
    bottom = max((line.y for line in lines), default=0) + 1
    fig.update_yaxes(
        tickvals=[line.y for line in lines],
        ticktext=[line.text for line in lines],
        range=[bottom, -0.8],
        showgrid=False,
        zeroline=False,
        automargin=True,
    )
    fig.update_xaxes(title="Hedges' g, 95% CI", zeroline=False)
    figure = _layout(
        fig,
        height=max(320, 30 * bottom + 160),
        margin=dict(l=10, r=80, t=90, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=11)),  # above: no empty gap
    )
    return _note_above(figure, largest_note(total_strata, MAX_FOREST_STRATA, "strata", "comparisons"))


def _unresolved(row: dict) -> bool:
    value = row.get("spread_unresolved")
    return bool(value) and value == value


def build_answer_forest(
    rows: pd.DataFrame, pooled, subgroups: pd.DataFrame | None = None, by: str = "kit"
) -> go.Figure:
    """Forest plot of one pooled question: each study's Hedges' g with 95% CI grouped by subgroup (kit), each
    subgroup's pooled diamond, the overall diamond and its 95% prediction interval (a line under it)."""
    traces: list[dict] = []
    lines: list[tuple[float, str]] = []
    y = 0.0
    ordered = rows.sort_values([by, "year", "study"], na_position="last")
    sub_table = subgroups.set_index("subgroup") if subgroups is not None and not subgroups.empty else None
    for name, part in ordered.groupby(by, sort=False):
        lines.append((y, f"<b>{name}</b>"))
        y += 1
        ys = []
        for study, case_group in zip(part["study"], part["case_group"], strict=True):
            lines.append((y, _wrap(f"{study}: {case_group}", 38)))
            ys.append(y)
            y += 1
        traces.append(dict(
            type="scatter", x=part["y"].to_numpy(), y=ys, mode="markers", name=str(name), showlegend=False,
            marker=dict(symbol="square", size=9, color="#0072B2"),
            error_x=dict(type="data", symmetric=True, array=1.959964 * np.sqrt(part["v"].astype(float).to_numpy())),
            customdata=part[["study", "n_case", "n_control", "derivation"]].astype(str).to_numpy(),
            hovertemplate="<b>%{customdata[0]}</b><br>g = %{x:.2f}<br>n %{customdata[1]} cases / %{customdata[2]} "
            "controls<br>%{customdata[3]}<extra></extra>",
        ))  # fmt: skip
        if sub_table is not None and name in sub_table.index and len(part) > 1:
            s = sub_table.loc[name]
            lines.append((y, f"<i>{name}: pooled (k={int(s['k'])})</i>"))
            traces.append(dict(
                type="scatter", x=[s["estimate"]], y=[y], mode="markers", showlegend=False, name=f"{name} pooled",
                marker=dict(symbol="diamond-wide", size=14, color="#56B4E9"),
                error_x=dict(type="data", symmetric=False, array=[s["ci_high"] - s["estimate"]],
                             arrayminus=[s["estimate"] - s["ci_low"]]),
                hovertemplate=f"{name}: pooled g = %{{x:.2f}}<extra></extra>",
            ))  # fmt: skip
            y += 1
        y += 0.4
    if pooled is not None:
        lines.append((y, f"<b>All kits: pooled (k={pooled.k})</b>"))
        traces.append(dict(
            type="scatter", x=[pooled.estimate], y=[y], mode="markers", name="Pooled across kits (random effects)",
            marker=dict(symbol="diamond-wide", size=20, color="#D55E00"),
            error_x=dict(type="data", symmetric=False, array=[pooled.ci_high - pooled.estimate],
                         arrayminus=[pooled.estimate - pooled.ci_low]),
            hovertemplate=f"pooled g = %{{x:.2f}} (95% CI {pooled.ci_low:.2f} to {pooled.ci_high:.2f})<extra></extra>",
        ))  # fmt: skip
        if np.isfinite(pooled.pi_low):
            y += 0.8
            lines.append((y, "<i>95% prediction interval</i>"))
            traces.append(dict(
                type="scatter", x=[pooled.pi_low, pooled.pi_high], y=[y, y], mode="lines",
                name="95% prediction interval", line=dict(color="#D55E00", width=3, dash="dot"),
                hovertemplate=f"prediction interval {pooled.pi_low:.2f} to {pooled.pi_high:.2f}<extra></extra>",
            ))  # fmt: skip
        y += 1
    no_effect = dict(type="line", x0=0, x1=0, xref="x", y0=0, y1=1, yref="y domain",
                     line=dict(color="#555555", width=1, dash="dot"))  # fmt: skip
    return _figure(
        traces,
        shapes=[no_effect],
        yaxis=dict(tickvals=[v for v, _ in lines], ticktext=[t for _, t in lines], range=[y + 0.2, -0.8],
                   showgrid=False, zeroline=False, automargin=True),
        xaxis=dict(title=dict(text="Hedges' g (cases minus controls), 95% CI"), zeroline=False),
        height=max(300, 24 * y + 190), margin=dict(l=10, r=20, t=30, b=80),
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
    )  # fmt: skip


def pooled_answers_range(table: pd.DataFrame) -> tuple[float, float]:
    """The pooled-answers chart's x range: the pooled 95% CIs of `table` and g = 0, with 10 % room each side. Prediction
    intervals are not fitted (one wide interval would shrink every CI to a dot); what lies beyond is clipped."""
    pooled = table[table["reason"] == ""]
    low = min([0.0, *pooled["ci_low"].dropna()])
    high = max([0.0, *pooled["ci_high"].dropna()])
    room = 0.1 * (high - low) or 0.5
    return low - room, high + room


def build_pooled_answers(table: pd.DataFrame) -> go.Figure:
    """Every pooled case–control question at a glance: one row per question (the most studies first), its pooled
    Hedges' g with 95% CI and, where there are three or more studies, its 95% prediction interval (a dotted line;
    an arrow where it runs past the axis, fitted to the CIs)."""
    from rankl_atlas.answers import pooled_questions  # here: the Overview imports charts, not the pooling code

    pooled = table.set_index("question", drop=False).loc[
        pooled_questions(table)
    ]  # the page's "Open one question" order
    note = largest_note(len(pooled), MAX_POOLED_ANSWERS, "pooled questions", "studies")
    pooled = pooled.head(MAX_POOLED_ANSWERS)
    names = [
        f"{q.replace(' · cases vs controls', '')} (k={k})" for q, k in zip(pooled["question"], pooled["k"], strict=True)
    ]
    ys = list(range(len(pooled)))
    estimate = pooled["estimate"].to_numpy(float)
    left, right = pooled_answers_range(pooled)
    traces: list[dict] = []
    xs: list = []
    lines_y: list = []
    arrows: list[tuple[float, int, str]] = []
    for y, low, high in zip(ys, pooled["pi_low"], pooled["pi_high"], strict=True):
        if pd.isna(low) or pd.isna(high):
            continue
        xs += [max(low, left), min(high, right), None]
        lines_y += [y, y, None]
        arrows += [(left, y, "triangle-left")] if low < left else []
        arrows += [(right, y, "triangle-right")] if high > right else []
    if xs:
        traces.append(dict(
            type="scatter", x=xs, y=lines_y, mode="lines", name="95% prediction interval",
            line=dict(color="#D55E00", width=2, dash="dot"), hoverinfo="skip",
        ))  # fmt: skip
    if arrows:
        traces.append(dict(
            type="scatter", x=[a[0] for a in arrows], y=[a[1] for a in arrows], mode="markers", showlegend=False,
            cliponaxis=False,
            name="prediction interval runs past the axis", marker=dict(symbol=[a[2] for a in arrows], size=10,
                                                                      color="#D55E00"),
            hovertemplate="The prediction interval runs past the axis<extra></extra>",
        ))  # fmt: skip
    traces.append(dict(
        type="scatter", x=estimate, y=ys, mode="markers", name="Pooled g, 95% CI (random effects)",
        marker=dict(symbol="diamond-wide", size=14, color="#D55E00"),
        error_x=dict(type="data", symmetric=False, array=pooled["ci_high"].to_numpy(float) - estimate,
                     arrayminus=estimate - pooled["ci_low"].to_numpy(float)),
        text=names, customdata=[
            [n, ci_low, ci_high, f"{pi_low:.2f} to {pi_high:.2f}" if pd.notna(pi_low) else "none (k < 3)", i2]
            for n, ci_low, ci_high, pi_low, pi_high, i2 in pooled[
                ["n_total", "ci_low", "ci_high", "pi_low", "pi_high", "i2_percent"]
            ].itertuples(index=False)
        ],
        hovertemplate="<b>%{text}</b><br>pooled g = %{x:.2f} (95% CI %{customdata[1]:.2f} to %{customdata[2]:.2f})"
        "<br>95% prediction interval: %{customdata[3]}<br>n = %{customdata[0]:,.0f}, I² = %{customdata[4]:.0f}%"
        "<extra></extra>",
    ))  # fmt: skip
    no_effect = dict(type="line", x0=0, x1=0, xref="x", y0=0, y1=1, yref="y domain",
                     line=dict(color="#555555", width=1, dash="dot"))  # fmt: skip
    return _figure(
        traces,
        note=note,
        shapes=[no_effect],
        yaxis=dict(tickvals=ys, ticktext=[_wrap(n, 44) for n in names], range=[len(ys) - 0.4, -0.6],
                   showgrid=False, zeroline=False, automargin=True),
        xaxis=dict(title=dict(text="Pooled Hedges' g (cases minus controls)"), zeroline=False, range=[left, right]),
        height=max(220, 34 * len(ys) + 150), margin=dict(l=10, r=20, t=20, b=70),
        legend=dict(orientation="h", yanchor="top", y=-0.25, x=0),
    )  # fmt: skip


def build_funnel_plot(rows: pd.DataFrame, pooled) -> go.Figure:
    """Funnel plot: each study's effect against its standard error (inverted axis), with the pooled estimate
    and its pseudo 95% limits (estimate ± 1.96·SE)."""
    se = np.sqrt(rows["v"].astype(float))
    top = float(se.max()) * 1.05 if len(se) else 1.0  # the funnel spans every study, drawn or not
    total, rows = len(rows), seeded_sample(rows)
    se = np.sqrt(rows["v"].astype(float))
    fig = go.Figure()
    grid = np.linspace(0, top, 30)
    for sign in (-1, 1):
        fig.add_scatter(x=pooled.estimate + sign * 1.959964 * grid, y=grid, mode="lines", showlegend=sign == 1,
                        name="pseudo 95% limits", line=dict(color="#8C8C8C", dash="dot"), hoverinfo="skip")  # fmt: skip
    fig.add_scatter(x=rows["y"], y=se, mode="markers", name="studies", marker=dict(color="#0072B2", size=9),
                    customdata=rows[["study"]].astype(str).to_numpy(),
                    hovertemplate="<b>%{customdata[0]}</b><br>effect %{x:.2f}, SE %{y:.2f}<extra></extra>")  # fmt: skip
    fig.add_vline(x=pooled.estimate, line=dict(color="#D55E00"))
    fig.update_yaxes(title="Standard error", autorange="reversed")
    fig.update_xaxes(title="Effect (analysis scale)")
    return _say_sampled(_layout(fig, height=360, margin=dict(l=10, r=10, t=30, b=10)), total)


def _wrap(text: str, width: int = 34) -> str:
    """A label broken into lines of about width characters (so the plot keeps its width on a phone)."""
    return "<br>".join(textwrap.wrap(text, width)[:3])


def _paper_p_text(row: dict) -> str:
    text = row.get("paper_p_text")
    if isinstance(text, str) and text:
        if text[0] in "<>≤≥":
            return "p " + text
        return f"p = {text.removeprefix('=').strip()}"  # a paper's '=0.001' is not printed as 'p = =0.001'
    return "p not given"


# --- Assays: values per kit, the talk figure ---------------------------------------------------------------

HEALTHY_ROLES = ("control",)


def kit_labels(assays: pd.DataFrame) -> pd.Series:
    """assay_id -> a short 'Vendor · kit' label (kit names cut at 26 characters)."""
    names = assays["kit_name"].astype(str).map(lambda t: t if len(t) <= 26 else t[:25] + "…")
    text = assays["vendor"].map(lambda c: label("assay_vendor", c)) + " · " + names
    return pd.Series(text.to_numpy(), index=assays["assay_id"].to_numpy())


def kit_rows(measurements: pd.DataFrame, studies: pd.DataFrame, assays: pd.DataFrame) -> pd.DataFrame:
    """Measurements with a value, each with its kit label ('Vendor · kit', or 'Vendor, kit not named'), form,
    whether the group is healthy/control, and the value in pmol/L where the unit converts (flagged)."""
    rows = concentration_rows(measurements, studies)
    names = kit_labels(assays)
    unnamed = rows["assay_vendor"].map(lambda c: label("assay_vendor", c) + ", kit not named")
    rows["kit"] = (
        rows["assay_id"].map(names).fillna(unnamed)
        + " · "
        + rows["analyte_form"].map(lambda c: label("analyte_form", c).lower())
    )
    rows["healthy"] = rows["group_role"].isin(HEALTHY_ROLES) | (rows["condition_group"] == "healthy_population")
    kit_kda = rows["assay_id"].map(assays.set_index("assay_id")["calibrator_mw_kda"]).astype("Float64")
    columns = [rows["value"].astype(float), rows["analyte"], rows["unit"], rows["analyte_form"], kit_kda]
    rows["value_pmol_l"] = [  # over Python lists: walking Arrow-backed columns value by value was most of the time
        convert_unit(v, a, u, "pmol_l", form, None if pd.isna(k) else float(k))
        for v, a, u, form, k in zip(*(column.tolist() for column in columns), strict=True)
    ]
    rows["converted"] = rows["unit"] != "pmol_l"
    mass = rows["unit"].map(lambda u: UNITS[u].kind == "mass")
    rows["weight_used"] = np.where(
        ~mass, "", np.where(kit_kda.notna().to_numpy(dtype=bool), "kit calibrator weight", "generic weight (flagged)")
    )
    return rows


def by_analyte(rows: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The rows of RANKL, then OPG, each with at least one row."""
    return [(a, part) for a in MEASURED_ANALYTE if not (part := rows[rows["analyte"] == a]).empty]


def kit_lod_pmol_l(assays: pd.DataFrame) -> pd.Series:
    """assay_id -> the kit's stated limit of detection in pmol/L (kits without a stated LOD and unit left out)."""
    known = assays[assays["lod"].notna() & assays["unit"].isin(CONCENTRATION_UNITS)]
    values = [
        convert_unit(float(v), a, u, "pmol_l", form, None if pd.isna(k) else float(k))
        for v, a, u, form, k in zip(
            known["lod"],
            known["analyte"],
            known["unit"],
            known["form_detected"],
            known["calibrator_mw_kda"],
            strict=True,
        )
    ]
    return pd.Series(values, index=known["assay_id"].to_numpy(), dtype=float)


@dataclass(frozen=True)
class Spread:
    """How far healthy/control values disagree: across named kits (ratio of kit medians) and across all groups."""

    kits: int
    between_kits: float | None
    groups: int
    between_groups: float | None


def healthy_spread(rows: pd.DataFrame) -> Spread:
    """Max/min ratio of healthy or control group values (pmol/L): between the medians of catalogued kits, and
    between all healthy/control groups whatever their kit."""
    healthy = rows[rows["healthy"] & (rows["value_pmol_l"] > 0)]
    named = healthy[healthy["assay_id"].notna()]
    per_kit = named.groupby("kit")["value_pmol_l"].median()
    between_kits = float(per_kit.max() / per_kit.min()) if len(per_kit) >= 2 else None
    between_groups = float(healthy["value_pmol_l"].max() / healthy["value_pmol_l"].min()) if len(healthy) >= 2 else None
    return Spread(len(per_kit), between_kits, len(healthy), between_groups)


def build_talk_figure(rows: pd.DataFrame, analyte: str, assays: pd.DataFrame) -> go.Figure:
    """Every group value of one analyte on one log axis in pmol/L (converted where needed, raw value on hover),
    one row per kit and form, healthy/control groups apart from disease groups, each point named on hover (and
    labelled when few), with the kit's LOD as a band where the catalogue states one."""
    used = ["kit", "healthy", "value_pmol_l", "study", "group_label", "value", "unit_label", "converted", "assay_id"]
    used += ["origin"] if "origin" in rows else []
    part = rows.loc[rows["analyte"] == analyte, used].sort_values(["kit", "healthy"])  # only the columns drawn
    order = list(dict.fromkeys(part["kit"]))
    columns = ["study", "group_label", "value", "unit_label", "kit", "conversion"]
    part = part.assign(
        conversion=np.where(
            part["converted"], "converted from " + part["unit_label"].astype(str) + " (provisional)", "as published"
        )
    )
    labelled = len(part) <= 25
    shown = seeded_sample(part, by=["kit", "healthy", *(["origin"] if "origin" in part else [])])
    row_of = {kit: i for i, kit in enumerate(order)}
    traces = []
    for healthy, name, colour, offset in (
        (True, "Healthy / control groups", "#009E73", -0.15),
        (False, "Disease groups", "#D55E00", 0.15),
    ):
        sub = shown[shown["healthy"] == healthy]
        if sub.empty:
            continue
        traces.append(
            dict(
                type="scattergl" if len(shown) > WEBGL_POINTS else "scatter",  # WebGL keeps thousands of points fast
                x=sub["value_pmol_l"].to_numpy(),
                y=[row_of[k] + offset for k in sub["kit"]],
                mode="markers+text" if labelled else "markers",
                text=(
                    sub["study"].astype(str).str.slice(0, 18) + ": " + sub["group_label"].astype(str).str.slice(0, 18)
                ).to_numpy(),
                textposition="top center",
                textfont=dict(size=9),
                name=name,
                marker=dict(
                    size=9,
                    color=colour,
                    symbol=np.where(sub["converted"], "circle-open", "circle"),
                    line=dict(width=1.5, color=colour),
                ),
                customdata=sub[columns].astype(str).to_numpy(),
                hovertemplate=hover(
                    "<b>{study}</b><br>{group_label}<br>%{x:.3g} pmol/L<br>as published: {value} {unit_label} ({conversion})"
                    "<br>{kit}",
                    columns,
                ),
            )
        )
    lods = kit_lod_pmol_l(assays)
    kit_of_id = part.dropna(subset=["assay_id"]).drop_duplicates("kit").set_index("kit")["assay_id"]
    bands = [
        dict(
            type="rect",
            y0=row_of[kit] - 0.45,
            y1=row_of[kit] + 0.45,
            x0=1e-9,
            x1=lods[assay_id],
            xref="x",
            yref="y",
            fillcolor="#BBBBBB",
            opacity=0.35,
            line=dict(width=0),
            layer="below",
        )  # fmt: skip
        for kit, assay_id in kit_of_id.items()
        if assay_id in lods.index
    ]
    xaxis = dict(title=dict(text=f"{ANALYTE[analyte]} (pmol/L; open: converted)"), tickangle=0)
    if len(part):
        ticks = log_ticks(float(part["value_pmol_l"].min()), float(part["value_pmol_l"].max()))
        xaxis.update(
            type="log",
            tickvals=ticks,
            ticktext=[f"{t:g}" for t in ticks],
            range=[np.log10(ticks[0]) - 0.05, np.log10(ticks[-1]) + 0.05],
        )
    names = [  # each kit's name over its row, inside the plot: the plot keeps a phone's width
        dict(
            x=0,
            xref="paper",
            xanchor="left",
            y=i - 0.3,
            yanchor="bottom",
            text=str(kit),
            showarrow=False,
            font=dict(size=11, color="#444444"),
            bgcolor="rgba(255,255,255,0.7)",
        )  # fmt: skip
        for i, kit in enumerate(order)
    ]
    return _figure(
        traces,
        note=sample_note(len(part)),
        xaxis=xaxis,
        yaxis=dict(
            tickvals=list(range(len(order))), showticklabels=False, range=[len(order) - 0.5, -0.6], showgrid=False
        ),
        **({"shapes": bands} if bands else {}),
        annotations=names,
        height=max(260, 70 * len(order) + 160),
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, title=dict(text="")),
        validate=False,
    )


# --- Coverage: PRISMA 2020 flow and saturation curve ---------------------------------------------------------


def build_prisma_flow(counts: dict) -> go.Figure:
    """A PRISMA 2020-style flow diagram drawn from the search logs: identified → duplicates removed → screened →
    excluded by reason → included, as one centred column of boxes (it fits a phone as well as a desktop)."""
    reasons = "<br>".join(
        f"{EXCLUSION_REASON.get(code, code)}: {n}" for code, n in counts["excluded_by_reason"].items()
    )
    boxes = [
        (
            0.95,
            f"<b>Records identified</b>: {counts['identified']}<br>{counts['queries']} queries of stored public pages<br>(PubMed, PMC, publishers)",
        ),
        (0.83, f"<b>Duplicates removed</b>: {counts['duplicates_removed']}"),
        (0.72, f"<b>Records screened</b> (title and abstract): {counts['screened']}"),
        (0.45, f"<b>Records excluded</b>: {counts['excluded']}<br>{reasons}"),
        (0.1, f"<b>Studies included in the atlas</b>: {counts['included']}"),
    ]
    fig = go.Figure()
    for y, text in boxes:
        fig.add_annotation(
            x=0.5, y=y, xref="paper", yref="paper", text=text, showarrow=False, align="center",
            bordercolor="#555555", borderwidth=1, borderpad=6, bgcolor="#F7F7F7", font=dict(size=11),
        )  # fmt: skip
    fig.update_layout(  # one connector behind the boxes (their backgrounds hide it inside them)
        shapes=[
            dict(
                type="line",
                x0=0.5,
                x1=0.5,
                y0=0.1,
                y1=0.95,
                xref="paper",
                yref="paper",
                layer="below",
                line=dict(color="#555555", width=1.5),
            )
        ]  # fmt: skip
    )
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[0, 1])
    return _layout(fig, height=560, showlegend=False, margin=dict(l=5, r=5, t=10, b=10))


def build_saturation_curve(curve: pd.DataFrame) -> go.Figure:
    """Cumulative new included studies (and candidate records) by query, in the order run."""
    fig = go.Figure()
    columns = ["query_id", "area", "new_includes"]
    for column, name, colour in (
        ("cumulative_includes", "Included studies", "#0072B2"),
        ("cumulative_candidates", "Candidate records", "#E69F00"),
    ):
        fig.add_scatter(
            x=curve["query_number"],
            y=curve[column],
            mode="lines",
            name=name,
            line=dict(color=colour, width=2),
            customdata=curve[columns].astype(str).to_numpy(),
            hovertemplate=hover("query %{x} ({query_id}, {area})<br>" + name.lower() + " so far: %{y}", columns),
        )
    fig.update_xaxes(title="Queries run (areas in turn)", tickformat="d", rangemode="tozero")
    fig.update_yaxes(title="Cumulative count", tickformat="d", rangemode="tozero")
    return _layout(fig, height=360)
