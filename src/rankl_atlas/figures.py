"""Figures for papers and talks: a chart with its title, filter caption and source line, as SVG or 300-dpi PNG.

Uses Plotly's own static export (kaleido), pointed at the system Chromium (Debian's /usr/bin/chromium, or
$RANKL_ATLAS_CHROMIUM / $BROWSER_PATH).
"""

from __future__ import annotations

import os
import shutil
import textwrap

import plotly.graph_objects as go

#: Journal column widths in millimetres (single and double column).
COLUMN_MM = {"single": 85.0, "double": 180.0}
DPI = 300
#: Plotly lays out in CSS pixels; at 100 px per inch, scale = DPI/100 gives 300 dots per inch.
PX_PER_INCH = 100


def _point_kaleido_at_chromium() -> None:
    if os.environ.get("BROWSER_PATH"):
        return
    for candidate in (os.environ.get("RANKL_ATLAS_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.exists(candidate):
            os.environ["BROWSER_PATH"] = candidate
            return


def caption_lines(caption: str, source: str, width_px: int) -> list[str]:
    """The caption and source line wrapped to the figure's width (about 6 px per character at 9 pt)."""
    chars = max(30, int(width_px / 6.2))
    return textwrap.wrap(caption, chars) + textwrap.wrap(source, chars)


def frozen(fig: go.Figure) -> go.Figure:
    """The figure, its plain form (`to_dict()`, what st.plotly_chart sends) computed now and handed back on every
    later call. st.plotly_chart calls `to_dict()` on every rerun: a deep copy plus a base64 pass over the arrays
    (≈ 9 ms for the Overview's chart). A figure shared read-only by every session needs it once. A frozen figure
    must not be changed: copy it first (`go.Figure(fig)`, as the downloads do)."""
    spec = fig.to_dict()
    fig.to_dict = lambda: spec  # an instance attribute: plotly accepts names the figure already has
    return fig


def publication_figure(fig: go.Figure, title: str, caption: str, source: str, width_px: int) -> go.Figure:
    """A copy of fig with its title, and under it the filter caption and source line, inside the image: both sit
    in the top margin (the legend keeps the bottom), wrapped to the column width, with a left inset."""
    out = go.Figure(fig)
    title_lines = textwrap.wrap(title, max(24, int(width_px / 8.5)))
    lines = caption_lines(caption, source, width_px)
    top = 24 + 18 * len(title_lines) + 13 * len(lines)
    out.update_layout(
        title=dict(
            text="<br>".join(title_lines),
            x=0,
            xref="container",
            xanchor="left",
            y=1,
            yref="container",
            yanchor="top",
            pad=dict(l=12, t=10),
            font=dict(size=13),
            subtitle=dict(text="<br>".join(lines), font=dict(size=9, color="#444444")),
        ),
        width=width_px,
        margin=dict(l=max(40, (fig.layout.margin.l or 0)), r=20, t=top + 16, b=max(40, fig.layout.margin.b or 0)),
        font=dict(size=10),
        showlegend=fig.layout.showlegend is not False,
    )
    legend = fig.layout.legend
    if legend.orientation == "h" and legend.y is not None and legend.y < 0:  # a legend under the plot clears the
        out.update_layout(legend=dict(y=legend.y - 0.12))  # axis title, which is larger at print size
    return out


def figure_bytes(fig: go.Figure, title: str, caption: str, source: str, fmt: str, column: str = "single") -> bytes:
    """SVG or PNG (300 dpi at a journal column width) of a chart with title, caption and source line."""
    width_in = COLUMN_MM[column] / 25.4
    width_px = int(round(width_in * PX_PER_INCH))
    height = int(fig.layout.height or 450)
    figure = publication_figure(fig, title, caption, source, width_px)
    _point_kaleido_at_chromium()
    scale = DPI / PX_PER_INCH if fmt == "png" else 1
    extra = int(figure.layout.margin.t) - int(fig.layout.margin.t or 40)
    data = figure.to_image(format=fmt, width=width_px, height=height + max(0, extra), scale=scale)
    if fmt == "png":
        data = _with_png_text(data, {"Title": title, "Description": caption, "Source": source})
    return data


def _with_png_text(data: bytes, text: dict[str, str]) -> bytes:
    """PNG with tEXt chunks (title, caption, source) and its physical resolution set to 300 dpi."""
    import io

    from PIL import Image, PngImagePlugin

    image = Image.open(io.BytesIO(data))
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info, dpi=(DPI, DPI))
    return buffer.getvalue()
