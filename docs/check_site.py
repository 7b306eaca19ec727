"""Open the built documentation in headless Chromium and check what a reader would see.

Usage::

    python docs/check_site.py [--site docs/_build/html] [--out docs/_build/screenshots]

For the home page, the theory page and one gallery page (the animation example), the
script loads the page from disk, waits for MathJax to finish, saves a screenshot to
``--out``, and fails (exit code 1, one line per problem) if

* the math did not render: no MathJax element on a page that has math, or raw ``\\(...\\)``,
  ``\\[...\\]`` or ``$...$`` TeX left in the visible text;
* an image is broken (not loaded, or zero natural width);
* the browser requested any URL outside the site (``http:``, ``https:``, ``ws:``, ...): the
  site must work offline.

It drives Debian's ``chromium`` with Selenium (the ``docs`` extra) through Debian's
``chromium-driver``; the requests come from Chrome's performance log (the DevTools
``Network.requestWillBeSent`` events). Both paths are given to Selenium explicitly, so it
never looks for or downloads a driver. Exit code 2: Selenium, Chromium, its driver or the
site is missing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGES = {
    "home": "index.html",
    "theory": "theory.html",
    "gallery": "auto_examples/plot_11_animation_mckean_vlasov.html",
}
VIEWPORT = (1280, 1800)
TIMEOUT_S = 60.0

# JavaScript run in each page once it has loaded (Selenium's asynchronous script: the last
# argument is the callback), after MathJax (if any) has typeset and every image settled.
PROBE = r"""
const done = arguments[arguments.length - 1];
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(r => { img.onload = img.onerror = r; })));
  const main = document.querySelector('main') || document.body;
  const text = main.innerText;
  const raw = [];
  for (const re of [/\\\([^]*?\\\)/, /\\\[[^]*?\\\]/, /\$[^$\n]{1,200}\\[A-Za-z]+[^$\n]*\$/]) {
    const m = text.match(re);
    if (m) raw.push(m[0].slice(0, 80));
  }
  return {
    mathElements: document.querySelectorAll('mjx-container').length,
    mathSources: document.querySelectorAll('.math, span.math, div.math').length,
    raw: raw,
    images: document.images.length,
    broken: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
                                 .map(i => i.getAttribute('src')),
    title: document.title,
  };
})().then(done, err => done({error: String(err)}));
"""

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")


def start_browser(chromium: str, driver: str, profile: str):
    """A headless Chromium under Selenium, with the performance (network) log on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-default-apps",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--allow-file-access-from-files", "--hide-scrollbars",
                f"--user-data-dir={profile}", f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    browser.set_page_load_timeout(TIMEOUT_S)
    browser.set_script_timeout(TIMEOUT_S)
    # the viewport itself, not the window (whose frame would take part of it)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": VIEWPORT[0], "height": VIEWPORT[1],
                             "deviceScaleFactor": 1, "mobile": False})
    return browser


def requested_urls(browser) -> list[str]:
    """URLs requested since the last call, from the performance log (which it empties)."""
    urls = []
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def check_page(browser, name: str, path: Path, shots: Path) -> list[str]:
    """Load one page, screenshot it, and return its problems."""
    requested_urls(browser)  # forget the previous page's requests
    browser.get(path.as_uri())  # returns after the load event
    probe = browser.execute_async_script(PROBE)
    if not isinstance(probe, dict) or "error" in probe:
        return [f"{name}: the page probe failed: {probe}"]
    out = shots / f"{name}.png"
    if not browser.save_screenshot(str(out)):
        return [f"{name}: the screenshot could not be saved to {out}"]

    problems = []
    if probe["mathSources"] and not probe["mathElements"]:
        problems.append(f"{name}: {probe['mathSources']} math blocks but no rendered MathJax "
                        "element")
    if name == "theory" and not probe["mathElements"]:
        problems.append("theory: no rendered math element at all")
    problems += [f"{name}: raw TeX left in the page: {r!r}" for r in probe["raw"]]
    problems += [f"{name}: broken image {src}" for src in probe["broken"]]
    problems += [f"{name}: external request {url}" for url in requested_urls(browser)
                 if not url.startswith(LOCAL_SCHEMES)]
    print(f"{name}: {probe['mathElements']} math elements, {probe['images']} images, "
          f"screenshot {out}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=HERE / "_build" / "html")
    parser.add_argument("--out", type=Path, default=HERE / "_build" / "screenshots")
    parser.add_argument("--chromium", default=None, help="browser executable (default: chromium)")
    parser.add_argument("--driver", default=None,
                        help="ChromeDriver executable (default: chromedriver, Debian's "
                             "chromium-driver)")
    args = parser.parse_args(argv)

    try:
        import selenium  # noqa: F401
    except ImportError:
        print("check_site: selenium not installed (pip install '.[docs]')", file=sys.stderr)
        return 2
    exe = args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = args.driver or shutil.which("chromedriver")
    if exe is None or driver is None:
        print("check_site: chromium or chromedriver not found (Debian: apt-get install -y "
              "chromium chromium-driver)", file=sys.stderr)
        return 2
    missing = [p for p in PAGES.values() if not (args.site / p).is_file()]
    if missing:
        print(f"check_site: not built: {', '.join(missing)} under {args.site}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    problems = []
    with tempfile.TemporaryDirectory(prefix="poc-chromium-") as profile:
        browser = start_browser(exe, driver, profile)
        try:
            for name, page in PAGES.items():
                problems += check_page(browser, name, (args.site / page).resolve(), args.out)
        finally:
            browser.quit()
    for p in problems:
        print(f"FAIL {p}")
    print("check_site: " + ("FAILED" if problems else "OK") + f" ({len(PAGES)} pages)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
