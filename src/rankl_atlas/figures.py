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


def publication_figure(fig: go.Figure, title: str, caption: str, source: str, width_px: int) -> go.Figure:
    """A copy of fig with its title at the top and the filter caption and source line drawn under the plot."""
    out = go.Figure(fig)
    chars = max(40, int(width_px / 6.5))
    lines = textwrap.wrap(caption, chars) + textwrap.wrap(source, chars)
    bottom = 60 + 15 * len(lines)
    out.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
        width=width_px,
        margin=dict(l=10, r=10, t=60, b=bottom + 40),
        font=dict(size=10),
        showlegend=fig.layout.showlegend is not False,
    )
    out.add_annotation(
        text="<br>".join(lines),
        x=0,
        y=0,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        yshift=-bottom + 10,
        showarrow=False,
        align="left",
        font=dict(size=9, color="#444444"),
    )
    return out


def figure_bytes(fig: go.Figure, title: str, caption: str, source: str, fmt: str, column: str = "single") -> bytes:
    """SVG or PNG (300 dpi at a journal column width) of a chart with title, caption and source line."""
    width_in = COLUMN_MM[column] / 25.4
    width_px = int(round(width_in * PX_PER_INCH))
    height = int(fig.layout.height or 450)
    figure = publication_figure(fig, title, caption, source, width_px)
    _point_kaleido_at_chromium()
    scale = DPI / PX_PER_INCH if fmt == "png" else 1
    data = figure.to_image(format=fmt, width=width_px, height=height + 120, scale=scale)
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
