"""The build step that inlines each page's critical CSS (nexdrive/first_paint.py)."""
from __future__ import annotations

from nexdrive import first_paint as fp

SHEET = """/* reset */@layer base,theme;@import url(x.css);
@layer base{*,:after,:before{box-sizing:border-box}}
:root,.light,.light-theme{--indigo-9:#3e63dd;--indigo-10:#3358d4;--tomato-9:#e54d2e;--accent-9:var(--indigo-9)}
.dark,.dark-theme{--indigo-9:#3e63dd;--tomato-9:#e54d2e}
[data-accent-color=indigo]{--accent-9:var(--indigo-9)}
[data-accent-color=tomato]{--accent-9:var(--tomato-9)}
.rt-Button{background:var(--accent-9);content:"{not a block}"}
.rt-Button:where(.rt-variant-soft){color:red}
.rt-Button:where(.rt-variant-ghost){color:blue}
.rt-Dialog .rt-Button{margin:0}
h1.rt-Heading,.rt-Table td{font-weight:700}
@media (min-width:768px){.md\\:rt-r-size-3{font-size:20px}.rt-Card{padding:4px}}
@supports (color:color(display-p3 1 1 1)){:root{--indigo-9:color(display-p3 .2 .4 .9)}}
@keyframes rt-fade{0%{opacity:0}to{opacity:1}}
@font-face{font-family:x;src:url(x.woff2)}
"""

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>
<link rel="preload" as="style" href="/assets/__reflex_global_styles-AbC.css"/>
<link href="/assets/__reflex_global_styles-AbC.css" rel="stylesheet" type="text/css"/></head>
<body><div class="radix-themes" data-accent-color="indigo"><h1 class="rt-Heading">Learn</h1>
<button class="rt-Button rt-variant-soft md:rt-r-size-3" type="button">Book</button></div>
<style data-emotion="css 1x">.css-1x{color:var(--indigo-10)}</style>
<link rel="modulepreload" href="/assets/entry.client-X.js"/><link rel="modulepreload" href="/assets/root-R.js"/>
<script type="module" async="">import "/assets/manifest-M.js";
import * as route0 from "/assets/root-R.js";
import * as route1 from "/assets/_index-I.js";
  window.__reactRouterRouteModules = {"root":route0,"routes/_index":route1};

import("/assets/entry.client-X.js");</script><script>window.after = 1</script></body></html>"""


def test_the_critical_css_keeps_what_the_page_uses_and_its_tokens():
    css = fp.critical_css(SHEET, PAGE)
    assert css.startswith("@layer base,theme;@layer base{*,:after,:before{box-sizing:border-box}}")
    assert ".rt-Button{background:var(--accent-9)" in css and '"{not a block}"' in css
    assert ".rt-Button:where(.rt-variant-soft){color:red}" in css
    assert "rt-variant-ghost" not in css  # no ghost button on the page
    assert ".rt-Dialog" not in css and ".rt-Table" not in css and "h1.rt-Heading{" in css
    assert "[data-accent-color=indigo]" in css and "[data-accent-color=tomato]" not in css
    # tokens: the accent chain (accent -> indigo) is kept, unused palettes and steps are dropped
    assert "--indigo-9:#3e63dd" in css and "--tomato-9" not in css
    assert "--indigo-10:#3358d4" in css  # used by the page's own (Emotion) styles
    # dark mode is set on <html> by a script before the first paint: its tokens stay
    assert ".dark{--indigo-9" in css and ".dark-theme" not in css
    assert "@media (min-width:768px){.md\\:rt-r-size-3{font-size:20px}}" in css
    assert "@supports" in css and "@keyframes" not in css and "@font-face" not in css


def test_the_page_inlines_it_and_fetches_nothing_else_before_the_first_paint():
    out = fp.rewrite_page(PAGE, "body{margin:0}</style>")
    assert "<style data-critical>body{margin:0}<\\/style></style>" in out
    # the stylesheet link stays in place (React hydrates it) without an address; the preload hint is gone
    assert ('<link data-nxd-href="/assets/__reflex_global_styles-AbC.css" rel="stylesheet" type="text/css"/>'
            in out)
    assert ('<noscript><link href="/assets/__reflex_global_styles-AbC.css" rel="stylesheet" '
            'type="text/css"/></noscript>') in out
    assert 'as="style"' not in out and '<link rel="modulepreload"' not in out
    assert '<link rel="nxd-modulepreload" data-nxd-href="/assets/entry.client-X.js"/>' in out
    assert '<script type="module"' not in out and "<script>window.after = 1</script>" in out
    loader = out[out.index("<script>(function(){"):out.index("<script>window.after")]
    assert ('import("/assets/manifest-M.js").then(function(){return Promise.all([import("/assets/root-R.js"),'
            'import("/assets/_index-I.js")])}).then(function(m){var route0=m[0];var route1=m[1];') in loader
    assert 'window.__reactRouterRouteModules = {"root":route0,"routes/_index":route1};' in loader
    assert 'import("/assets/entry.client-X.js");' in loader and "requestAnimationFrame" in loader
    assert fp.rewrite_page(out, "x{}") == out  # idempotent


def test_a_page_of_another_shape_is_left_alone():
    other = PAGE.replace('import * as route1 from "/assets/_index-I.js";', 'import {x} from "/assets/_index-I.js";')
    assert fp.rewrite_page(other, "body{}") == other
    assert fp.rewrite_page(PAGE.replace("__reflex_global_styles", "other"), "body{}") == \
        PAGE.replace("__reflex_global_styles", "other")


def test_the_build_step_rewrites_prerendered_pages_only(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "__reflex_global_styles-AbC.css").write_text(SHEET)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.html").write_text(PAGE)
    (tmp_path / "__spa-fallback.html").write_text(PAGE)
    done = fp.rewrite_build(tmp_path)
    assert [name for name, _ in done] == ["book/index.html"]
    assert "data-critical" in (tmp_path / "book" / "index.html").read_text()
    assert "data-critical" not in (tmp_path / "__spa-fallback.html").read_text()


def test_the_page_holds_taps_made_before_hydration():
    out = fp.rewrite_page(PAGE, "body{margin:0}")
    head = out[:out.index("</head>")]
    # the guard runs in <head>, before anything is painted, and before the critical CSS
    assert head.index("<script data-nxd-taps>") < head.index("<style data-critical>")
    guard = head[head.index("<script data-nxd-taps>"):head.index("</script>", head.index("<script data-nxd-taps>"))]
    assert 'addEventListener("click"' in guard and ",true)" in guard  # capture phase, on the window
    assert "__reactProps$" in guard and "preventDefault" in guard and "aria-busy" in guard
    assert "LIMIT=15000" in guard and "requestAnimationFrame" in guard
    assert 'a:not([href]),a[href="#"]' in guard  # links with a real address navigate natively
    assert "<style data-nxd-taps>html[data-nxd-busy]" in head


def test_the_chunks_are_evaluated_leaves_first_one_per_task(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "manifest-M.js").write_text("window.__reactRouterManifest={};")
    (assets / "react-A.js").write_text("var a=1;export{a as t};")
    (assets / "theme-T.js").write_text('import{t as e}from"./react-A.js";import"./css-C.js";export{e as x};')
    (assets / "css-C.js").write_text("console.log(1)")
    (assets / "root-R.js").write_text('import{x as e}from"./theme-T.js";import{t}from"./react-A.js";export{e};')
    (assets / "_index-I.js").write_text('import{x as n,y as r}from"./theme-T.js";import*as q from"./cyc-1.js";')
    (assets / "cyc-1.js").write_text('import"./cyc-2.js";')
    (assets / "cyc-2.js").write_text('import"./cyc-1.js";')
    (assets / "entry.client-X.js").write_text('import{t as e}from"./react-A.js";import"./dom-D.js";'
                                              'import("./lazy-L.js")')
    (assets / "dom-D.js").write_text('import{t as e}from"./react-A.js";')
    graph = fp.ChunkGraph(assets)
    allowed = {f"/assets/{p.name}" for p in assets.iterdir()}
    order = fp.evaluation_order(graph, ["/assets/manifest-M.js", "/assets/root-R.js", "/assets/_index-I.js"],
                                "/assets/entry.client-X.js", allowed)
    # depth-first, each chunk after its imports; the import cycle (and what imports it) is left to the browser;
    # the client entry itself runs last, from the original boot code; dynamic imports are not followed
    assert order == ["/assets/manifest-M.js", "/assets/react-A.js", "/assets/css-C.js", "/assets/theme-T.js",
                     "/assets/root-R.js", "/assets/dom-D.js"]
    assert fp.evaluation_order(graph, ["/assets/root-R.js"], None, allowed - {"/assets/css-C.js"}) == \
        ["/assets/react-A.js", "/assets/theme-T.js", "/assets/root-R.js"]

    loader = fp.deferred_boot(BOOT, order)
    assert loader.index('["/assets/manifest-M.js","/assets/react-A.js"') < \
        loader.index('import("/assets/manifest-M.js")')
    assert "MessageChannel" in loader  # a macrotask between two chunks
    out = fp.rewrite_page(PAGE, "x{}", order)
    assert '"/assets/dom-D.js"]).then(function(){return import("/assets/manifest-M.js")' in out


BOOT = fp.BOOT_SCRIPT.search(PAGE).group(1)
