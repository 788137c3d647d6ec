"""The HTML report in a real browser: headless Chromium opens it from disk.

Checks: no console errors or exceptions, no request other than the file itself (and the
``data:`` images inside the charts), every chart present and not blank, sortable tables sort,
and a model reply holding a ``<script>`` ran nothing and is shown as text.

Chromium is Debian's ``chromium`` package; when it is missing the test installs it with
apt-get (CI runs this test) and fails with a clear message when that is impossible.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from report_cdp import Browser, find_chromium
from report_helpers import IMG_INJECTION, INJECTION, PROMPT_INJECTION, make_run

from auditkit.report import render_reports


def _install_chromium() -> str:
    found = find_chromium()
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.fail("Chromium is missing and apt-get is not available: install Debian's "
                    "'chromium' package to run the browser test")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(sudo + cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"Chromium is missing and `{' '.join(cmd)}` failed "
                        f"(exit {done.returncode}): {done.stderr[-500:]}")
    found = find_chromium()
    if not found:
        pytest.fail("apt-get installed 'chromium' but no chromium binary is on PATH")
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The report of a simulated run opened in headless Chromium, after the load event."""
    binary = _install_chromium()
    run = make_run(tmp_path_factory.mktemp("browser") / "run")
    html = render_reports(run).html
    with Browser(binary, width=1366, height=900) as browser:
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.call(f"{domain}.enable")
        browser.call("Page.navigate", {"url": html.as_uri()})
        browser.wait_for("Page.loadEventFired")
        browser.evaluate("new Promise(r => requestAnimationFrame(() => r(1)))")
        yield browser, html


def _events(browser: Browser, method: str) -> list[dict]:
    return [e["params"] for e in browser.events if e["method"] == method]


def test_no_console_errors_or_exceptions(page):
    browser, _ = page
    browser.evaluate("1")       # drain events queued so far
    errors = [e for e in _events(browser, "Runtime.consoleAPICalled")
              if e["type"] in ("error", "assert")]
    logged = [e["entry"] for e in _events(browser, "Log.entryAdded")
              if e["entry"]["level"] == "error"]
    assert errors == [] and logged == []
    assert _events(browser, "Runtime.exceptionThrown") == []


def test_no_network_requests(page):
    browser, html = page
    urls = [e["request"]["url"] for e in _events(browser, "Network.requestWillBeSent")]
    assert html.as_uri() in urls
    assert [u for u in urls if u != html.as_uri() and not u.startswith("data:")] == []


def test_injected_script_did_not_run_and_is_shown_as_text(page):
    browser, _ = page
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert browser.evaluate("document.querySelectorAll('main script, main img').length") == 0
    shown = browser.evaluate("document.getElementById('systemic').innerText")
    for text in (INJECTION, IMG_INJECTION, PROMPT_INJECTION):
        assert text in shown


def _chart_boxes(browser: Browser) -> list[dict]:
    return browser.evaluate("""Array.from(document.querySelectorAll('figure.chart svg')).map(s => {
        const r = s.getBoundingClientRect();
        return {id: s.parentElement.id, x: r.left + scrollX, y: r.top + scrollY,
                width: r.width, height: r.height};})""")


def test_charts_present_and_not_blank(page):
    browser, _ = page
    boxes = _chart_boxes(browser)
    assert sorted(b["id"] for b in boxes) == ["chart-histogram", "chart-kappa_cluster",
                                              "chart-kappa_lineage", "chart-rates"]
    for box in boxes:
        assert box["width"] > 200 and box["height"] > 150, box
        png = browser.screenshot({k: box[k] for k in ("x", "y", "width", "height")})
        pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
        inked = (pixels < 200).mean()         # share of clearly non-white pixels
        assert pixels.std() > 20 and 0.01 < inked < 0.9, (box["id"], pixels.std(), inked)


def test_whole_page_screenshot_is_not_blank(page):
    browser, _ = page
    pixels = np.asarray(Image.open(io.BytesIO(browser.screenshot())).convert("L"), dtype=float)
    assert pixels.shape[1] == 1366 and pixels.std() > 20


def test_clicking_a_header_sorts_the_table(page):
    browser, _ = page
    read = ("Array.from(document.querySelectorAll('#t-rates tbody tr'))"
            ".map(r => parseFloat(r.cells[3].dataset.v))")
    before = browser.evaluate(read)
    browser.evaluate("document.querySelector('#t-rates thead th:nth-child(4) button').click()")
    ascending = browser.evaluate(read)
    browser.evaluate("document.querySelector('#t-rates thead th:nth-child(4) button').click()")
    descending = browser.evaluate(read)
    assert ascending == sorted(before) and descending == sorted(before, reverse=True)
    assert browser.evaluate("document.querySelector('#t-rates thead th:nth-child(4)')"
                            ".getAttribute('aria-sort')") == "descending"
