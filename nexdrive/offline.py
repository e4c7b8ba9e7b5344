"""The instructor workstation's service worker, written into the production build.

A Reflex plugin whose ``post_build`` hook writes ``sw.js`` beside the built files with the list of what
to precache: the workstation pages (as ``/route/``), their JavaScript and CSS bundles and
``/workstation.js``. Measured in this stack (see the offline notes): ``caches.match`` needs
``ignoreVary`` (Reflex sends ``Vary: Accept-Encoding, Origin``), and a navigation fetch needs a timeout
(a silent network drop never fails on its own). Nothing else on the site is served from the cache.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import reflex as rx

WORKSTATION_PAGES = ("/instructor/", "/instructor/lesson/new/")
EXTRA_FILES = ("/workstation.js", "/favicon.ico")
NAVIGATION_TIMEOUT_MS = 4000

SW_TEMPLATE = """/* NexDrive Academy: the instructor workstation offline (generated at build time). */
const VERSION = "nxd-ws-%(version)s";
const PAGES = %(pages)s;
const FILES = %(files)s;
const TIMEOUT = %(timeout)d;
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => Promise.all(
    [...PAGES, ...FILES].map((url) => cache.add(new Request(url, {cache: "reload"})).catch(() => null))
  )).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("nxd-ws-") && k !== VERSION).map((k) => caches.delete(k))
  )).then(() => self.clients.claim()));
});
function pageKey(pathname) {
  const p = pathname.endsWith("/") ? pathname : pathname + "/";
  return PAGES.includes(p) ? p : null;
}
function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((r) => { clearTimeout(t); resolve(r); }, (e) => { clearTimeout(t); reject(e); });
  });
}
self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate") {
    const key = pageKey(url.pathname);
    if (!key) return;
    event.respondWith(withTimeout(fetch(req), TIMEOUT).then((res) => {
      if (res.ok) { const copy = res.clone(); caches.open(VERSION).then((c) => c.put(key, copy)); }
      return res;
    }).catch(() => caches.match(key, {ignoreVary: true, ignoreSearch: true}).then((hit) => hit || Response.error())));
    return;
  }
  if (FILES.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname, {ignoreVary: true, ignoreSearch: true}).then((hit) => hit ||
      fetch(req).then((res) => {
        if (res.ok) { const copy = res.clone(); caches.open(VERSION).then((c) => c.put(url.pathname, copy)); }
        return res;
      })));
  }
});
"""


def precache_files(static_dir: Path) -> list[str]:
    """The built bundles (JS, CSS, fonts) plus the workstation's own script."""
    out = []
    assets = static_dir / "assets"
    if assets.is_dir():
        for f in sorted(assets.rglob("*")):
            if f.is_file() and f.suffix in (".js", ".css", ".woff2", ".woff", ".svg", ".png"):
                out.append("/" + f.relative_to(static_dir).as_posix())
    return [*out, *EXTRA_FILES]


def service_worker_source(static_dir: Path) -> str:
    files = precache_files(static_dir)
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode())
        path = static_dir / name.lstrip("/")
        if path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for page in WORKSTATION_PAGES:
        html = static_dir / page.strip("/") / "index.html"
        if html.is_file():
            digest.update(hashlib.sha256(html.read_bytes()).digest())
    return SW_TEMPLATE % {"version": digest.hexdigest()[:16], "pages": json.dumps(list(WORKSTATION_PAGES)),
                          "files": json.dumps(files), "timeout": NAVIGATION_TIMEOUT_MS}


class WorkstationOfflinePlugin(rx.plugins.Plugin):
    """Writes ``sw.js`` (see the module docstring) after every production build."""

    def post_build(self, **context) -> None:
        static_dir = Path(context["static_dir"])
        (static_dir / "sw.js").write_text(service_worker_source(static_dir), encoding="utf-8")
