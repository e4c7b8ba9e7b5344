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


# ------------------------------------------------------------------------------------------- the full sheet, purged
FULL = """@layer base,theme;
:root,.light{--indigo-9:#3e63dd;--tomato-9:#e54d2e;--jade-9:#29a383;--jade-10:#26997b;--accent-9:var(--indigo-9)}
.dark{--indigo-9:#3e63dd;--jade-9:#27b08b}
[data-accent-color=indigo]{--accent-9:var(--indigo-9)}
[data-accent-color=jade]{--accent-9:var(--jade-9)}
.rt-Button{background:var(--accent-9)}
.rt-Button:where(.rt-variant-soft){color:red}
.rt-Kbd{font-family:monospace}
.rt-Kbd,.rt-Code{padding:1px}
.rt-r-size-2{font-size:14px}
.rt-r-gap-3{gap:12px}
.rt-Toast:not(.rt-Kbd){margin:0}
.dark .rt-Button{color:white}
@media (min-width:520px){.xs\\:rt-r-size-2{font-size:14px}}
@media (min-width:768px){.md\\:rt-r-size-2{font-size:14px}.rt-Kbd{padding:2px}}
@keyframes rt-fade{0%{opacity:0}to{opacity:1}}
@font-face{font-family:x;src:url(x.woff2)}
"""
# What the build holds: Radix Themes' Button (its class and its prop definitions' class-name prefixes), Code,
# a page using md: responsive values; no Kbd, no "rt-r-gap" prefix, jade named nowhere.
CHUNK = 'var b={size:{className:`rt-r-size`},variant:{className:`rt-variant`}};h(`button`,{className:`rt-Button`})' \
        ';h(`code`,{className:"rt-Code"});h(Toast,{className:`rt-Toast`})'
APP = ['jsx(Button,{color:"tomato",size:({ ["initial"] : "1", ["md"] : "2" })})', 'rx.badge("x", color_scheme="gray")']


def test_the_full_sheet_keeps_what_some_page_can_use():
    out = fp.purge_stylesheet(FULL, [CHUNK, PAGE], APP)
    assert ".rt-Button{background:var(--accent-9)}" in out
    assert ".rt-Button:where(.rt-variant-soft){color:red}" in out  # built from the rt-variant prefix
    assert ".rt-r-size-2{font-size:14px}" in out  # built from the rt-r-size prefix
    assert "@media (min-width:768px){.md\\:rt-r-size-2{font-size:14px}}" in out  # the app uses md: values
    assert ".dark .rt-Button{color:white}" in out  # dark mode stays
    assert ".rt-Code{padding:1px}" in out  # a selector list keeps its matching selectors
    assert ".rt-Toast:not(.rt-Kbd){margin:0}" in out  # :not() requires nothing
    assert "@keyframes rt-fade" in out and "@font-face" in out and out.startswith("@layer base,theme;")
    assert "[data-accent-color=indigo]" in out  # named by the page (Theme's accent)
    assert "--indigo-9:#3e63dd" in out and "--tomato-9:#e54d2e" in out  # tomato: named by the app's code


def test_the_full_sheet_drops_what_no_page_can_use():
    out = fp.purge_stylesheet(FULL, [CHUNK, PAGE], APP)
    assert "rt-Kbd{" not in out and ".rt-Kbd," not in out  # no Kbd code in any chunk
    assert "rt-r-gap" not in out  # no code builds a gap class
    assert "xs\\:" not in out  # no xs: responsive value anywhere
    assert "[data-accent-color=jade]" not in out and "--jade-" not in out  # a palette nobody names, light and dark


def test_a_palette_used_by_a_kept_rule_keeps_its_properties():
    sheet = ":root{--red-9:#e5484d;--jade-9:#29a383}.rt-Callout{border-color:var(--red-9)}"
    out = fp.purge_stylesheet(sheet, ["`rt-Callout`"], [])
    assert "--red-9:#e5484d" in out and "--jade-9" not in out


def test_the_build_loads_the_purged_sheet_and_keeps_reacts_links_unloaded(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "__reflex_global_styles-AbC.css").write_text(FULL)
    (tmp_path / "assets" / "root-R.js").write_text(CHUNK)
    (tmp_path / "index.html").write_text(PAGE)
    fp.rewrite_build(tmp_path)
    purged = list((tmp_path / "assets").glob("__reflex_global_styles-nxd*.css"))
    assert len(purged) == 1 and ".rt-Kbd{" not in purged[0].read_text()
    name = "/assets/" + purged[0].name
    html = (tmp_path / "index.html").read_text()
    # the purged sheet, held until after the first paint, just before React's own link (the same cascade place)
    assert (f'<link data-nxd-href="{name}" data-nxd-purged rel="stylesheet" type="text/css"/>'
            '<link disabled="" data-nxd-href="/assets/__reflex_global_styles-AbC.css" rel="stylesheet" '
            'type="text/css"/>') in html
    assert f'<noscript><link href="{name}" rel="stylesheet" type="text/css"/></noscript>' in html
    # React finds its preload hint by address when it hydrates; its media matches nothing, so it is not fetched
    assert '<link media="not all" rel="preload" as="style" href="/assets/__reflex_global_styles-AbC.css"/>' in html
    assert (tmp_path / "assets" / "__reflex_global_styles-AbC.css").read_text() == FULL  # the built one stays
