"""The built documentation site, opened in headless Chromium (``make docs`` runs this).

Checks that the landing page and a lesson render: the page loads, every ``<img>`` has
loaded (``naturalWidth > 0``) and the browser console reports no errors. Needs the site
built in ``docs/_build/html`` (``make docs`` builds it first), Chromium and chromedriver
(Debian: ``apt-get install chromium chromium-driver``) and Selenium (extra ``docs``).

The pages are served over HTTP from a local server, as a reader would see them. Chromium
resolves no host but the local one (``--host-resolver-rules``), so the check is the same
with and without network: resources from other sites (MathJax from its CDN, on pages with
equations) fail alike everywhere; such failures are listed but do not fail the test, a
console error about anything on the site itself does.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
from _optional import require

pytestmark = pytest.mark.docs

SITE = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"


def _find(env: str, *names: str) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        path = shutil.which(name) or (name if Path(name).exists() else None)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site in {SITE}: run `make docs` (it builds, then tests)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = require("selenium.webdriver", "docs")
    chromium = _find("CHROMIUM", "chromium", "chromium-browser", "google-chrome")
    driver_path = _find("CHROMEDRIVER", "chromedriver", "/usr/lib/chromium/chromedriver")
    if chromium is None or driver_path is None:
        pytest.fail(
            "Chromium and chromedriver are needed to check the site "
            "(Debian: apt-get install chromium chromium-driver; or set CHROMIUM and "
            f"CHROMEDRIVER); found chromium={chromium}, chromedriver={driver_path}"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(browser, server, page):
    """Load ``page``; return (images, console errors of the site, of other hosts)."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")  # drop what earlier pages left
    browser.get(f"{server}/{page}")
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "Array.from(document.images).every(img => img.complete)"
        )
    )
    images = browser.execute_script(
        "return Array.from(document.images).map(img => "
        "({src: img.currentSrc || img.src, width: img.naturalWidth}))"
    )
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    own = [e["message"] for e in errors if server in e["message"] or "http" not in e["message"]]
    other = [e["message"] for e in errors if e["message"] not in own]
    return images, own, other


def _check(images, own_errors, min_images):
    broken = [img["src"] for img in images if img["width"] <= 0]
    assert not broken, f"images that did not load: {broken}"
    assert len(images) >= min_images, f"expected >= {min_images} images, got {images}"
    assert not own_errors, f"console errors: {own_errors}"


def test_landing_page(browser, server):
    images, own, other = _open(browser, server, "index.html")
    _check(images, own, min_images=1)
    assert "spikingml" in browser.title
    table = browser.find_element("css selector", "table.circuits")
    links = [a.get_attribute("href") for a in table.find_elements("css selector", "a")]
    lessons = {Path(link).stem for link in links if "/lessons/" in link}
    assert lessons == {
        "td_conditioning",
        "v1_ica",
        "rescorla_wagner",
        "actor_critic",
        "bayesian_neuron",
        "wta_em",
        "tempotron",
        "three_factor_synapse",
        "reservoir",
        "eprop_memory",
        "attractor",
        "neural_sampling",
        "stochastic_synapses",
        "hebbian_tsne",
        "hierarchy",
    }
    if other:
        print("resources of other hosts that did not load:", *other, sep="\n  ")


def test_lesson_renders_with_figures(browser, server):
    images, own, other = _open(browser, server, "lessons/td_conditioning.html")
    _check(images, own, min_images=3)  # raster, comparison, learning curves
    headings = [h.text for h in browser.find_elements("css selector", "h2")]
    for section in ("The ML idea", "The biological story", "The circuit", "The comparison"):
        assert any(section in h for h in headings), (section, headings)
    if other:
        print("resources of other hosts that did not load:", *other, sep="\n  ")
