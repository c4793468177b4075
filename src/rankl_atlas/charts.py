"""Plotly figures and the tables behind them (pure: frames in, figures or frames out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rankl_atlas.schema import (
    ANALYTE,
    COLOURS,
    CONDITION_GROUP,
    DIRECTION_CLASS,
    DIRECTION_CLASS_COLOUR,
    DIRECTION_CLASS_LABEL,
    GROUP_ROLE,
    RELATED_TO,
    STUDY_KIND,
    UNIT,
    label,
)

FONT = dict(family="sans-serif", size=13)
WEBGL_POINTS = 1000
EMPTY_CELL_COLOUR = "#F2F2F2"


def _layout(fig: go.Figure, **kwargs) -> go.Figure:
    settings = {
        "font": FONT,
        "template": "plotly_white",
        "margin": dict(l=10, r=10, t=40, b=10),
        "legend": dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    }
    fig.update_layout(**{**settings, **kwargs})
    return fig


def study_labels(studies: pd.DataFrame) -> pd.Series:
    """'Surname Year' per study_id, e.g. 'Schett 2004'."""
    text = studies["first_author"].astype(str) + " " + studies["year"].astype("Int64").astype(str)
    return pd.Series(text.to_numpy(), index=studies["study_id"].to_numpy())


def with_study(frame: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Rows with their study's label, year, first author and species beside them (a new frame)."""
    info = studies[["study_id", "first_author", "year", "species", "ref_no"]].copy()
    info["study"] = study_labels(studies).to_numpy()
    return frame.merge(info, on="study_id", how="left")


# --- Overview --------------------------------------------------------------------------------


def studies_per_year(studies: pd.DataFrame) -> pd.DataFrame:
    """Count of studies per publication year and condition group (long form)."""
    grouped = studies.groupby(["year", "condition_group"], observed=True).size().reset_index(name="studies")
    grouped["disease"] = grouped["condition_group"].map(lambda c: label("condition_group", c))
    return grouped.sort_values(["year", "condition_group"]).reset_index(drop=True)


def build_studies_per_year(studies: pd.DataFrame) -> go.Figure:
    """Stacked bars: studies per year, coloured by disease, with an integer year axis."""
    table = studies_per_year(studies)
    fig = go.Figure()
    for code in CONDITION_GROUP:
        part = table[table["condition_group"] == code]
        if part.empty:
            continue
        fig.add_bar(
            x=part["year"],
            y=part["studies"],
            name=label("condition_group", code),
            marker_color=COLOURS["condition_group"][code],
            customdata=part[["condition_group"]].to_numpy(),
            hovertemplate="%{x}: %{y} stud(ies)<br>" + label("condition_group", code) + "<extra></extra>",
        )
    fig.update_xaxes(title="Publication year", dtick=1, tickformat="d")
    fig.update_yaxes(title="Studies", rangemode="tozero", tickformat="d")
    return _layout(fig, barmode="stack", height=420, legend_title_text="Disease")


def studies_by_kind(studies: pd.DataFrame) -> pd.DataFrame:
    """Studies per study kind, in vocabulary order, with labels."""
    counts = studies["study_kind"].value_counts()
    rows = [(code, STUDY_KIND[code], int(counts.get(code, 0))) for code in STUDY_KIND]
    return pd.DataFrame(rows, columns=["study_kind", "kind", "studies"])


def build_studies_by_kind(studies: pd.DataFrame) -> go.Figure:
    """Horizontal bars: how many studies of each kind the atlas holds."""
    table = studies_by_kind(studies)
    fig = go.Figure(
        go.Bar(
            x=table["studies"],
            y=table["kind"],
            orientation="h",
            marker_color=[COLOURS["study_kind"][c] for c in table["study_kind"]],
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="Studies", tickformat="d", rangemode="tozero")
    return _layout(fig, height=300, showlegend=False)


# --- Evidence map ----------------------------------------------------------------------------

MAP_ROWS = {"condition_group": CONDITION_GROUP, "related_to": RELATED_TO}
CLASS_SYMBOL = {"up": "↑", "down": "↓", "null": "=", "undetectable": "∅", "unstated": "?"}


def evidence_matrix(findings: pd.DataFrame, rows: str = "condition_group") -> pd.DataFrame:
    """One row per (row category, analyte) cell: counts per direction class, studies, summary class.

    Cells with no findings are included for every row category present, with n_findings 0.
    """
    vocabulary = MAP_ROWS[rows]
    classes = list(CLASS_SYMBOL)
    seen = set(findings[rows].dropna().unique())
    present = [code for code in vocabulary if code in seen]
    grid = pd.MultiIndex.from_product([present, list(ANALYTE)], names=["row", "analyte"]).to_frame(index=False)
    work = findings.assign(direction_class=findings["direction"].map(DIRECTION_CLASS))
    if work.empty:
        tallies = pd.DataFrame(columns=["row", "analyte", *classes])
    else:
        tallies = (
            work.groupby([rows, "analyte", "direction_class"], observed=True)
            .size()
            .unstack("direction_class", fill_value=0)
            .reindex(columns=classes, fill_value=0)
            .rename_axis(index=["row", "analyte"], columns=None)
            .reset_index()
        )
    if work.empty:
        studies = pd.DataFrame(columns=["row", "analyte", "n_studies", "study_ids"])
    else:
        studies = (
            work.groupby([rows, "analyte"], observed=True)["study_id"]
            .agg(n_studies="nunique", study_ids=lambda s: ", ".join(sorted(set(s))))
            .rename_axis(["row", "analyte"])
            .reset_index()
        )
    matrix = grid.merge(tallies, on=["row", "analyte"], how="left").merge(studies, on=["row", "analyte"], how="left")
    matrix[classes] = matrix[classes].fillna(0).astype(int)
    matrix["n_findings"] = matrix[classes].sum(axis=1)
    matrix["n_studies"] = matrix["n_studies"].fillna(0).astype(int)
    matrix["study_ids"] = matrix["study_ids"].fillna("").astype(str)
    matrix["summary_class"] = matrix.apply(_summary_class, axis=1, classes=classes)
    matrix["row_label"] = matrix["row"].map(lambda c: label(rows, c))
    matrix["analyte_label"] = matrix["analyte"].map(ANALYTE)
    matrix["cell_text"] = matrix.apply(_cell_text, axis=1, classes=classes)
    return matrix


def _summary_class(row: pd.Series, classes: list[str]) -> str:
    nonzero = [c for c in classes if row[c] > 0]
    if not nonzero:
        return "none"
    return nonzero[0] if len(nonzero) == 1 else "mixed"


def _cell_text(row: pd.Series, classes: list[str]) -> str:
    if row["n_findings"] == 0:
        return "–"
    return " ".join(f"{row[c]}{CLASS_SYMBOL[c]}" for c in classes if row[c] > 0)


#: Horizontal offset of each direction class inside its cell (cells are 5 units wide).
CLASS_OFFSET = {"up": -1.5, "down": -0.5, "null": 0.5, "undetectable": 1.5, "unstated": 1.5}


def build_evidence_map(matrix: pd.DataFrame, rows: str = "condition_group") -> go.Figure:
    """Matrix of rows × analyte; inside each cell one square per direction class, sized by its count.

    A cell with no findings shows a pale outlined square with a dash, so it never looks like a zero count.
    Every marker carries [row code, analyte code, class] in customdata so a click maps back to its findings.
    """
    seen = set(matrix["row"].unique())  # built once, not once per vocabulary code
    row_codes = [c for c in MAP_ROWS[rows] if c in seen]
    y_of = {code: i for i, code in enumerate(row_codes)}
    x_of = {code: 5 * i for i, code in enumerate(ANALYTE)}
    fig = go.Figure()
    empty = matrix[matrix["n_findings"] == 0]
    if not empty.empty:
        fig.add_scatter(
            x=empty["analyte"].map(x_of),
            y=empty["row"].map(y_of),
            mode="markers+text",
            text=["–"] * len(empty),
            textfont=dict(color="#777777"),
            marker=dict(symbol="square", size=34, color=EMPTY_CELL_COLOUR, line=dict(color="#BBBBBB", width=1)),
            name="No findings",
            customdata=np.column_stack(
                [empty["row"], empty["analyte"], ["none"] * len(empty), empty["row_label"], empty["analyte_label"]]
            ),
            hovertemplate="%{customdata[3]} · %{customdata[4]}<br>No findings reported<extra></extra>",
        )
    for cls in CLASS_SYMBOL:
        part = matrix[matrix[cls] > 0]
        if part.empty:
            continue
        count = part[cls].astype(int)
        fig.add_scatter(
            x=part["analyte"].map(x_of) + CLASS_OFFSET[cls],
            y=part["row"].map(y_of),
            mode="markers+text",
            text=count.astype(str),
            textfont=dict(color="white" if cls in ("up", "down") else "black", size=12),
            marker=dict(
                symbol="square",
                size=(14 + 7 * np.sqrt(count)).clip(upper=40),
                color=DIRECTION_CLASS_COLOUR[cls],
                line=dict(color="white", width=1),
            ),
            name=DIRECTION_CLASS_LABEL[cls],
            customdata=np.column_stack(
                [
                    part["row"],
                    part["analyte"],
                    [cls] * len(part),
                    part["row_label"],
                    part["analyte_label"],
                    part["n_studies"],
                ]
            ),
            hovertemplate=(
                "%{customdata[3]} · %{customdata[4]}<br>%{text} finding(s): "
                + DIRECTION_CLASS_LABEL[cls].lower()
                + "<br>cell total from %{customdata[5]} stud(ies) — click to list<extra></extra>"
            ),
        )
    fig.update_xaxes(
        tickvals=list(x_of.values()),
        ticktext=list(ANALYTE.values()),
        range=[-2.8, 5 * len(ANALYTE) - 2.2],
        side="top",
        showgrid=False,
        zeroline=False,
        fixedrange=True,
    )
    fig.update_yaxes(
        tickvals=list(y_of.values()),
        ticktext=[label(rows, c) for c in row_codes],
        range=[len(row_codes) - 0.5, -0.5],
        showgrid=False,
        zeroline=False,
        fixedrange=True,
    )
    for i in range(len(ANALYTE) + 1):
        fig.add_vline(x=5 * i - 2.5, line=dict(color="#E5E5E5", width=1))
    for j in range(len(row_codes) + 1):
        fig.add_hline(y=j - 0.5, line=dict(color="#E5E5E5", width=1))
    height = max(260, 56 * len(row_codes) + 150)
    return _layout(
        fig,
        height=height,
        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0),
        clickmode="event+select",
        dragmode=False,
    )


# --- Concentrations --------------------------------------------------------------------------


def concentration_rows(measurements: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Measurements with a value, with study labels, assay group and error-bar extents as published.

    Error bars: ± SD (or ± SE when only SE is given) for means; quartiles (else range) for medians.
    """
    rows = with_study(measurements[measurements["value"].notna()], studies)
    value = rows["value"].astype(float)
    spread = rows["sd"].astype(float).fillna(rows["se"].astype(float))
    low = (value - spread).where(spread.notna())
    high = (value + spread).where(spread.notna())
    low = low.fillna(rows["q1"].astype(float)).fillna(rows["min"].astype(float))
    high = high.fillna(rows["q3"].astype(float)).fillna(rows["max"].astype(float))
    rows["err_minus"] = (value - low).clip(lower=0)
    rows["err_plus"] = (high - value).clip(lower=0)
    rows["spread_kind"] = np.select(
        [rows["sd"].notna(), rows["se"].notna(), rows["q1"].notna(), rows["min"].notna()],
        ["± SD", "± SE", "IQR", "range"],
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


def build_concentration_chart(rows: pd.DataFrame, analyte: str, unit: str) -> go.Figure:
    """Reported group values of one analyte in one unit on a log axis, by assay; cases vs controls by colour."""
    part = rows[(rows["analyte"] == analyte) & (rows["unit"] == unit)]
    origin = part["origin"] if "origin" in part else pd.Series("atlas", index=part.index)
    fig = go.Figure()
    for role, mine in ((r, m) for r in GROUP_ROLE for m in (False, True)):
        sub = part[(part["group_role"] == role) & ((origin == "yours") == mine)]
        if sub.empty:
            continue
        trace = go.Scattergl if len(part) > WEBGL_POINTS else go.Scatter  # WebGL keeps thousands of points fast
        fig.add_trace(
            trace(
                x=sub["assay"],
                y=sub["value"],
                mode="markers",
                name=GROUP_ROLE[role] + (" (yours)" if mine else ""),
                marker=dict(
                    size=14 if mine else 11,
                    symbol="star" if mine else "circle",
                    color=COLOURS["group_role"][role],
                    line=dict(color="black" if mine else "white", width=1),
                ),
                error_y=dict(
                    type="data", symmetric=False, array=sub["err_plus"], arrayminus=sub["err_minus"], thickness=1.2
                ),
                customdata=sub[["measurement_id", "study", "group_label", "statistic", "spread_kind", "n"]]
                .astype(str)
                .to_numpy(),
                hovertemplate=(
                    "<b>%{customdata[1]}</b><br>%{customdata[2]} (n=%{customdata[5]})<br>"
                    "%{customdata[3]} %{y} " + UNIT[unit] + " (%{customdata[4]})<extra></extra>"
                ),
            )
        )
    fig.update_yaxes(type="log", dtick=1, tickformat="~g", title=f"{ANALYTE[analyte]} ({UNIT[unit]}, as published)")
    fig.update_xaxes(title="Assay vendor · analyte form")
    return _layout(fig, height=420, scattermode="group", legend_title_text="Group")


# --- Synthesis: harvest plot and forest plot ---------------------------------------------------

MAX_HARVEST_MARKS = 1500
MAX_FOREST_ROWS = 150
HARVEST_COLUMNS = {"down": -1.5, "null": -0.5, "up": 0.5, "undetectable": 1.5, "unstated": 1.5}
HARVEST_TITLES = {"down": "↓", "null": "=", "up": "↑", "undetectable": "∅/?"}
FORM_SYMBOL = {"free": "diamond", "total": "triangle-up", "dimer": "star", "unspecified": "square"}


def harvest_rows(findings: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """One row per finding with its study label, direction class and plotting position in its cell."""
    rows = with_study(findings, studies)
    rows["direction_class"] = rows["direction"].map(DIRECTION_CLASS)
    rows = rows.sort_values(["condition_group", "analyte", "direction_class", "year", "study"]).reset_index(drop=True)
    rows["slot"] = rows.groupby(["condition_group", "analyte", "direction_class"]).cumcount()
    seen = set(rows["condition_group"].unique())  # built once, not once per vocabulary code
    row_codes = [c for c in CONDITION_GROUP if c in seen]
    y_of = {code: i for i, code in enumerate(row_codes)}
    x_of = {code: 5 * i for i, code in enumerate(ANALYTE)}
    rows["x"] = (
        rows["analyte"].map(x_of) + rows["direction_class"].map(HARVEST_COLUMNS) + ((rows["slot"] % 4) - 1.5) * 0.2
    )
    rows["y"] = rows["condition_group"].map(y_of) + (rows["slot"] // 4) * 0.22 - 0.15
    rows["n_shown"] = rows["n"].astype("Float64").fillna(0)
    return rows


def build_harvest_plot(rows: pd.DataFrame) -> go.Figure:
    """Harvest plot: per disease and analyte, one mark per finding in the column of its direction.

    Mark size grows with n; colour is the assay vendor, symbol the analyte form (free ◆, total ▲, unspecified ■).
    """
    seen = set(rows["condition_group"].unique())  # built once, not once per vocabulary code
    row_codes = [c for c in CONDITION_GROUP if c in seen]
    fig = go.Figure()
    for vendor in COLOURS["assay_vendor"]:
        part = rows[rows["assay_vendor"] == vendor]
        if part.empty:
            continue
        size = (6 + 1.0 * np.sqrt(part["n_shown"].astype(float))).clip(upper=14)
        fig.add_scatter(
            x=part["x"],
            y=part["y"],
            mode="markers",
            name=label("assay_vendor", vendor),
            marker=dict(
                size=size,
                color=COLOURS["assay_vendor"][vendor],
                symbol=part["analyte_form"].map(FORM_SYMBOL).fillna("square"),
                line=dict(color="#333333", width=0.6),
            ),
            customdata=part[["finding_id", "study", "comparison", "direction", "n", "p_text", "analyte_form"]]
            .astype(str)
            .to_numpy(),
            hovertemplate=(
                "<b>%{customdata[1]}</b><br>%{customdata[2]}<br>direction: %{customdata[3]}"
                "<br>n=%{customdata[4]}, p %{customdata[5]}<br>form: %{customdata[6]}<extra></extra>"
            ),
        )
    ticks, texts = [], []
    for i in range(len(ANALYTE)):
        for cls in ("down", "null", "up", "undetectable"):
            ticks.append(5 * i + HARVEST_COLUMNS[cls])
            texts.append(HARVEST_TITLES[cls])
    fig.update_xaxes(
        tickvals=ticks, ticktext=texts, range=[-2.6, 5 * len(ANALYTE) - 2.4], showgrid=False, zeroline=False
    )
    for i, code in enumerate(ANALYTE):
        fig.add_annotation(
            x=5 * i, y=1.0, yref="paper", yanchor="bottom", text=f"<b>{ANALYTE[code]}</b>", showarrow=False
        )
        fig.add_vline(x=5 * i - 2.5, line=dict(color="#DDDDDD", width=1))
    fig.update_yaxes(
        tickvals=list(range(len(row_codes))),
        ticktext=[label("condition_group", c) for c in row_codes],
        range=[len(row_codes) - 0.5, -0.6],
        showgrid=False,
        zeroline=False,
    )
    for j in range(len(row_codes) + 1):
        fig.add_hline(y=j - 0.5, line=dict(color="#EEEEEE", width=1))
    return _layout(
        fig,
        height=max(300, 70 * len(row_codes) + 160),
        margin=dict(l=10, r=10, t=80, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.03, x=0, title_text="Assay vendor"),
    )


def build_forest_plot(effects: pd.DataFrame, pooled: pd.DataFrame) -> go.Figure:
    """Forest plot of Hedges' g with 95% CI, grouped by stratum, with a pooled diamond where poolable.

    Derived rows (means and SDs estimated from medians) are drawn as open squares.
    """
    labels, y = [], 0
    fig = go.Figure()
    published, derived, pooled_pts = [], [], []
    for _, stratum in pooled.iterrows():
        part = effects[
            (effects["analyte"] == stratum["analyte"])
            & (effects["analyte_form"] == stratum["analyte_form"])
            & (effects["assay_vendor"] == stratum["assay_vendor"])
            & (effects["unit"] == stratum["unit"])
        ]
        labels.append((y, f"<b>{stratum['stratum']}</b>"))
        y += 1
        for _, row in part.iterrows():
            labels.append((y, f"{row['study']}: {row['case_group']} vs {row['control_group']}"))
            (derived if row["derived"] else published).append((y, row))
            y += 1
        if stratum["poolable"]:
            labels.append((y, f"<i>Pooled, {stratum['method']} (k={stratum['k_studies']})</i>"))
            pooled_pts.append((y, stratum))
            y += 1
        y += 0.5
    for points, name, symbol in (
        (published, "As published", "square"),
        (derived, "Derived (Wan et al. 2014)", "square-open"),
    ):
        if not points:
            continue
        rows = pd.DataFrame([r for _, r in points])
        fig.add_scatter(
            x=rows["g"],
            y=[p for p, _ in points],
            mode="markers",
            name=name,
            marker=dict(symbol=symbol, size=10, color="#0072B2", line=dict(color="#0072B2", width=2)),
            error_x=dict(
                type="data", symmetric=False, array=rows["ci_high"] - rows["g"], arrayminus=rows["g"] - rows["ci_low"]
            ),
            customdata=rows[
                ["comparison_id", "study", "n_case", "n_control", "specimen", "assay_vendor", "year", "derivation"]
            ]
            .astype(str)
            .to_numpy(),
            hovertemplate=(
                "<b>%{customdata[1]}</b> (%{customdata[6]})<br>g = %{x:.2f}<br>n %{customdata[2]} cases / "
                "%{customdata[3]} controls<br>%{customdata[4]}, kit: %{customdata[5]}<br>%{customdata[7]}<extra></extra>"
            ),
        )
    if pooled_pts:
        rows = pd.DataFrame([r for _, r in pooled_pts])
        fig.add_scatter(
            x=rows["pooled_g"],
            y=[p for p, _ in pooled_pts],
            mode="markers",
            name="Pooled (random effects)",
            marker=dict(symbol="diamond-wide", size=18, color="#D55E00"),
            error_x=dict(
                type="data",
                symmetric=False,
                array=rows["ci_high"] - rows["pooled_g"],
                arrayminus=rows["pooled_g"] - rows["ci_low"],
            ),
            customdata=rows[["stratum", "tau2", "i2_percent", "k_studies"]].to_numpy(),
            hovertemplate=(
                "%{customdata[0]}<br>pooled g = %{x:.2f}<br>τ² = %{customdata[1]:.3f}, I² = %{customdata[2]:.0f}%"
                "<br>k = %{customdata[3]}<extra></extra>"
            ),
        )
    fig.add_vline(x=0, line=dict(color="#555555", width=1, dash="dot"))
    fig.update_yaxes(
        tickvals=[p for p, _ in labels],
        ticktext=[t for _, t in labels],
        range=[y, -0.8],
        showgrid=False,
        zeroline=False,
    )
    fig.update_xaxes(title="Hedges' g (cases − controls), 95% CI", zeroline=False)
    return _layout(fig, height=max(260, 26 * y + 140))
