"""report.html in a real browser: headless Chromium renders it (a non-blank screenshot with the
embedded plots drawn), a ``<script>`` from the data shows as text and never runs, and the page
makes no network request (checked in Chromium's net log, with controls showing the check
catches a request and the page's Content-Security-Policy blocks one). Skipped without Chromium
(``.ci/run`` installs it)."""

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from .test_report_full import report, write_eval_dirs

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH")
LEAK = '<img src="http://lessmore.invalid/leak.png">'
TAB10_BLUE = (31, 119, 180)  # the first run's colour in the forest plots


def chromium(tmp_path, url, *args):
    """Run headless Chromium on ``url`` with a private profile, every host name unresolvable,
    and a net log; returns (stdout, URLs the page itself asked the network for)."""
    net_log = tmp_path / f"net-{len(list(tmp_path.glob('net-*')))}.json"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--log-net-log={net_log}", *args, url],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, page_requests(net_log)


def page_requests(net_log):
    """URLs of network requests started on the page's behalf. The browser's own background
    traffic (update checks) has no initiator ("not an origin"); a file:// page's has one."""
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    started = [e.get("params") or {} for e in log["events"] if e["type"] == start]
    return sorted({p["url"] for p in started if "url" in p
                   and p.get("initiator") != "not an origin"
                   and not p["url"].startswith(("data:", "file:"))})


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-chromium")
    report(write_eval_dirs(root), root / "report", "bootstrap_samples=200")
    return root / "report" / "report.html"


def test_report_renders_in_headless_chromium(report_html, tmp_path):
    shot = tmp_path / "report.png"
    _, requests = chromium(tmp_path, report_html.as_uri(), f"--screenshot={shot}",
                           "--window-size=1400,2400")
    assert shot.is_file() and shot.stat().st_size > 50_000
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (2400, 1400)
    assert pixels.std() > 20 and (pixels.mean(axis=2) < 200).mean() > 0.02  # not blank
    # the forest plots (base64 PNGs) were decoded and drawn, not just the text around them
    assert (np.abs(pixels - TAB10_BLUE).sum(axis=2) < 30).sum() > 200
    assert requests == []


def test_script_from_the_data_is_text_not_code(report_html, tmp_path):
    dom, requests = chromium(tmp_path, report_html.as_uri(), "--dump-dom")
    assert "<title>lessmore evaluation report</title>" in dom  # the script would retitle it
    assert "PWNED" in dom and "<script" not in dom.lower()
    assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom
    assert requests == []


def test_net_log_catches_a_request_and_the_policy_blocks_it(report_html, tmp_path):
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><body>{LEAK}</body></html>")
    _, requests = chromium(tmp_path, control.as_uri(), "--dump-dom")
    assert requests == ["http://lessmore.invalid/leak.png"]  # the check sees a page request
    injected = tmp_path / "injected.html"  # as if an escape had been missed
    injected.write_text(report_html.read_text().replace("<body>", "<body>" + LEAK, 1))
    dom, requests = chromium(tmp_path, injected.as_uri(), "--dump-dom")
    assert "lessmore.invalid" in dom and requests == []
