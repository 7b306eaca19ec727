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

It drives Debian's ``chromium`` through the Chrome DevTools protocol over
``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated JSON), so it needs no
Python package beyond the standard library. Exit code 2: Chromium or the site is missing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGES = {
    "home": "index.html",
    "theory": "theory.html",
    "gallery": "auto_examples/plot_11_animation_mckean_vlasov.html",
}
VIEWPORT = (1280, 1800)
TIMEOUT_S = 60.0

# JavaScript run in each page once it has loaded and MathJax (if any) has typeset.
PROBE = r"""
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
})()
"""


class Browser:
    """A headless Chromium driven over --remote-debugging-pipe."""

    def __init__(self, executable: str, profile: str):
        import fcntl

        cmd_r, self._cmd_w = os.pipe()  # we write commands, Chromium reads fd 3
        self._out_r, out_w = os.pipe()  # Chromium writes replies on fd 4, we read
        # copies numbered >= 10, so that placing them on 3 and 4 cannot clobber each other
        child = (fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(out_w, fcntl.F_DUPFD, 10))
        os.close(cmd_r)
        os.close(out_w)

        def place():  # in the child: dup2 makes 3 and 4 inheritable (everything else is not)
            os.dup2(child[0], 3)
            os.dup2(child[1], 4)

        args = [executable, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-default-apps",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--allow-file-access-from-files", "--hide-scrollbars",
                f"--user-data-dir={profile}", "--remote-debugging-pipe",
                f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "about:blank"]
        self.proc = subprocess.Popen(args, close_fds=False, preexec_fn=place,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in child:
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._out_r, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = TIMEOUT_S) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str, timeout: float = TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout
        for i, ev in enumerate(self.events):
            if ev.get("method") == method and ev.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            ev = self._read_message(deadline)
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
            self.events.append(ev)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._cmd_w)
        os.close(self._out_r)


def check_page(browser: Browser, name: str, path: Path, shots: Path) -> list[str]:
    """Load one page, screenshot it, and return its problems."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget",
                           {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Network", "Runtime"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1,
                  "mobile": False}, session=session)
    browser.send("Page.navigate", {"url": path.as_uri()}, session=session)
    browser.wait_event("Page.loadEventFired", session)
    result = browser.send("Runtime.evaluate", {"expression": PROBE, "awaitPromise": True,
                                               "returnByValue": True}, session=session)
    if "exceptionDetails" in result:
        return [f"{name}: the page probe failed: {result['exceptionDetails'].get('text')}"]
    probe = result["result"]["value"]
    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
    out = shots / f"{name}.png"
    out.write_bytes(base64.b64decode(shot["data"]))

    problems = []
    if probe["mathSources"] and not probe["mathElements"]:
        problems.append(f"{name}: {probe['mathSources']} math blocks but no rendered MathJax "
                        "element")
    if name == "theory" and not probe["mathElements"]:
        problems.append("theory: no rendered math element at all")
    problems += [f"{name}: raw TeX left in the page: {r!r}" for r in probe["raw"]]
    problems += [f"{name}: broken image {src}" for src in probe["broken"]]
    for ev in browser.events:
        if ev.get("method") == "Network.requestWillBeSent" and ev.get("sessionId") == session:
            url = ev["params"]["request"]["url"]
            if not url.startswith(("file:", "data:", "blob:", "about:")):
                problems.append(f"{name}: external request {url}")
    print(f"{name}: {probe['mathElements']} math elements, {probe['images']} images, "
          f"screenshot {out}")
    browser.send("Target.closeTarget", {"targetId": target})
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=HERE / "_build" / "html")
    parser.add_argument("--out", type=Path, default=HERE / "_build" / "screenshots")
    parser.add_argument("--chromium", default=None, help="browser executable (default: chromium)")
    args = parser.parse_args(argv)

    exe = args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        print("check_site: chromium not found (Debian: apt-get install -y chromium)",
              file=sys.stderr)
        return 2
    missing = [p for p in PAGES.values() if not (args.site / p).is_file()]
    if missing:
        print(f"check_site: not built: {', '.join(missing)} under {args.site}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    problems = []
    with tempfile.TemporaryDirectory(prefix="poc-chromium-") as profile:
        browser = Browser(exe, profile)
        try:
            for name, page in PAGES.items():
                problems += check_page(browser, name, (args.site / page).resolve(), args.out)
        finally:
            browser.close()
    for p in problems:
        print(f"FAIL {p}")
    print("check_site: " + ("FAILED" if problems else "OK") + f" ({len(PAGES)} pages)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
