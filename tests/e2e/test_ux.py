"""What a first-time visitor sees: a chart above the fold, the evidence map's columns on a phone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import open_page


@pytest.mark.e2e
def test_a_chart_is_drawn_above_the_fold_at_1280_by_800(server, page):
    open_page(page, server.url)
    chart = page.locator("[data-testid='stPlotlyChart'] .main-svg").first
    chart.wait_for()
    box = chart.bounding_box()
    assert box is not None and box["y"] + 0.5 * box["height"] < 800  # at least half of the first chart is visible


@pytest.mark.e2e
def test_the_evidence_maps_three_column_headers_and_counts_fit_on_a_phone(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        tab = context.new_page()
        open_page(tab, f"{server.url}/evidence-map")
        chart = tab.locator("[data-testid='stPlotlyChart']").first
        chart.locator(".xtick text").first.wait_for()
        area = chart.bounding_box()
        headers = chart.locator(".xtick text")
        texts = headers.evaluate_all("els => els.map(e => e.textContent)")
        assert texts == ["RANKL", "OPG", "RANKL:OPG"]
        for i in range(headers.count()):
            box = headers.nth(i).bounding_box()
            assert box["x"] >= area["x"] and box["x"] + box["width"] <= area["x"] + area["width"] + 1
        # every count label sits inside the square drawn under it (two-digit counts included)
        overflow = chart.evaluate(
            """root => {
                const shapes = [...root.querySelectorAll('.shapelayer path')].map(p => p.getBoundingClientRect());
                const labels = [...root.querySelectorAll('.textpoint text')].filter(t => /^[0-9]+$/.test(t.textContent));
                return labels.map(t => {
                    const r = t.getBoundingClientRect(), cx = r.x + r.width / 2, cy = r.y + r.height / 2;
                    const under = shapes.filter(s => s.x <= cx && cx <= s.x + s.width && s.y <= cy && cy <= s.y + s.height);
                    const widest = Math.max(0, ...under.map(s => s.width));
                    return {text: t.textContent, over: r.width - widest};
                });
            }"""
        )
        assert overflow and any(len(o["text"]) == 2 for o in overflow)
        assert [o for o in overflow if o["over"] > 1] == []
    finally:
        context.close()
