"""First paint without waiting for the global stylesheet or the scripts, written into the production build.

The site's one global stylesheet (``__reflex_global_styles-*.css``: Radix Themes' complete ``styles.css``
plus Reflex's reset, ~700 KB, ~82 KB gzipped) and ~60 ``modulepreload``ed scripts (~300 KB gzipped) were
fetched before the first paint of every page although the prerendered HTML already holds the text. A
Reflex plugin whose ``post_build`` hook rewrites each prerendered page (``.web/build/client/**/*.html``):

* **critical CSS inlined**: a ``<style data-critical>`` with the rules of the global stylesheet whose
  selectors can match that page's HTML (every class, ``data-*`` attribute and element the selector names
  occurs in the page), and only the custom properties (``--*``) those rules or the page's own styles use,
  following ``var()`` references; ``@media``/``@supports``/``@layer`` kept around their matching rules,
  ``@keyframes`` and ``@font-face`` left to the full sheet; ``.light``/``.dark`` kept (the colour-mode script
  sets one on ``<html>`` before the first paint);
* **nothing else fetched before the first paint**: the global stylesheet's link and the ``modulepreload``
  links stay where React expects them but hold their address in ``data-nxd-href`` (the stylesheet's
  ``preload`` hint is dropped), and React Router's module boot script becomes a classic script that, after
  the next frame has painted, gives the links their ``href`` back (all fetched in parallel, as before) and
  imports the manifest, the route modules and the client entry in the original order. A ``<noscript>``
  copy of the stylesheet link serves browsers without JavaScript. Hydration starts one frame later; React
  does not patch attributes when it hydrates, so the element tree it expects is unchanged (the CSP allows
  inline scripts: ``nexdrive/api/edge.py``);
* **chunks evaluated one per task**: the boot imports the page's chunks leaves first, in the browser's own
  evaluation order computed from their static imports at build time, with a macrotask between two, so no
  task evaluates the whole ~1 MB graph (:func:`evaluation_order`);
* **a smaller full sheet**: the sheet loaded after the paint is a purged copy of the built one without the
  rules no page of the site can match (:func:`purge_stylesheet`; 698 KB -> 360 KB), under its own hashed name;
  React's links keep the built address but load nothing (:func:`rewrite_page`);
* **no lost taps**: the page is painted before it is hydrated, so a small inline script in ``<head>``
  (``TAP_GUARD``) holds a click on a button-like element React has not hydrated yet and replays it once
  React has (see the comment above ``TAP_GUARD``).

Measured with Lighthouse (``docs/performance.md``): making the stylesheet non-blocking alone left FCP at
4.6 s, because Lighthouse's simulation counts every high-priority request made before the first paint.
Pages that are not prerendered (the SPA fallback), the instructor workstation's pages (``SKIPPED``) and
pages of another shape are left as they are.
Selector matching is deliberately generous (combinators and most pseudo-classes ignored): a rule too many
costs bytes, a rule too few a flash until the full sheet arrives. :func:`critical_css` and
:func:`rewrite_page` are pure functions (unit-tested); :class:`FirstPaintPlugin` is registered in
``rxconfig.py``; ``python -m nexdrive.first_paint .web/build/client`` rewrites a finished build.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import reflex as rx

# The global stylesheet's link, whatever the order of its attributes (React writes them as given).
GLOBAL_SHEET = re.compile(
    r'<link(?=[^>]*\brel="stylesheet")[^>]*\bhref="(/assets/__reflex_global_styles-[^"]+\.css)"[^>]*>')
MARKER = "data-critical"
PURGED_NAME = "__reflex_global_styles-nxd{digest}.css"  # the purged full sheet (purge_build_sheet)
PURGED_MARK = "data-nxd-purged"


# --------------------------------------------------------------------------------------------- CSS parsing
@dataclass
class Rule:
    """A style rule (``prelude`` is the selector list) or an at-rule with nested ``children``."""

    prelude: str
    body: str = ""
    children: list[Rule] | None = None
    at: bool = False
    statement: bool = False  # an at-rule ending in ``;`` (``@layer a, b;``)


def _skip_string(css: str, i: int) -> int:
    """Index of the quote closing the string that opens at ``i``."""
    quote, j, n = css[i], i + 1, len(css)
    while j < n and css[j] != quote:
        j += 2 if css[j] == "\\" else 1
    return j


def _match_brace(css: str, start: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``start`` (quotes and comments respected)."""
    depth, i, n = 0, start, len(css)
    while i < n:
        c = css[i]
        if c in "\"'":
            i = _skip_string(css, i)
        elif c == "/" and css.startswith("/*", i):
            i = css.find("*/", i + 2) + 1 or n
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return n - 1


def _find_open(css: str, i: int) -> tuple[int, int]:
    """(index of the next ``{`` or ``;`` at the top level from ``i``, which one: 0 for ``{``, 1 for ``;``)."""
    n = len(css)
    while i < n:
        c = css[i]
        if c in "\"'":
            i = _skip_string(css, i)
        elif c == "/" and css.startswith("/*", i):
            i = css.find("*/", i + 2) + 1 or n
        elif c == "{":
            return i, 0
        elif c == ";":
            return i, 1
        i += 1
    return n, 1


NESTING_AT = ("@media", "@supports", "@layer", "@container", "@document")


def parse(css: str) -> list[Rule]:
    """The rules of a stylesheet; at-rules that hold rules (``@media``, ``@supports``, ``@layer``) nested."""
    rules: list[Rule] = []
    i, n = 0, len(css)
    while i < n:
        while i < n and css[i] in " \t\r\n":
            i += 1
        if css.startswith("/*", i):
            i = (css.find("*/", i + 2) + 2) or n
            continue
        if i >= n:
            break
        j, kind = _find_open(css, i)
        prelude = css[i:j].strip()
        if kind == 1:  # @import / @charset / @layer a,b;
            if prelude:
                rules.append(Rule(prelude=prelude, at=True, statement=True))
            i = j + 1
            continue
        end = _match_brace(css, j)
        inner = css[j + 1:end]
        if prelude.startswith(NESTING_AT):
            rules.append(Rule(prelude=prelude, children=parse(inner), at=True))
        else:
            rules.append(Rule(prelude=prelude, body=inner, at=prelude.startswith("@")))
        i = end + 1
    return rules


# --------------------------------------------------------------------------------------------- the page
@dataclass
class PageVocabulary:
    """What a page's HTML holds: classes, element names, attribute names and ``attr=value`` pairs."""

    classes: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    attrs: set[str] = field(default_factory=set)
    values: set[tuple[str, str]] = field(default_factory=set)


TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*/?>")
ATTR = re.compile(r"([^\s=>/]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")


def vocabulary(html: str) -> PageVocabulary:
    # "light"/"dark": the colour-mode script puts one of them on <html> before the first paint.
    vocab = PageVocabulary(tags={"html", "body", "head"}, classes={"light", "dark"})
    for m in TAG.finditer(html):
        vocab.tags.add(m.group(1).lower())
        for a in ATTR.finditer(m.group(2) or ""):
            name = a.group(1).lower()
            value = a.group(2) if a.group(2) is not None else (a.group(3) if a.group(3) is not None else a.group(4))
            vocab.attrs.add(name)
            if name == "class" and value:
                vocab.classes.update(value.split())
            elif value is not None:
                vocab.values.add((name, value))
    return vocab


# Parts of a selector: .class, [attr op "value"], element names; pseudo-classes and -elements are skipped.
SEL_CLASS = re.compile(r"\.((?:\\.|[A-Za-z0-9_-])+)")
SEL_ATTR = re.compile(r"\[\s*([A-Za-z_:][-A-Za-z0-9_:.]*)\s*"
                      r"(?:([~|^$*]?=)\s*(\"[^\"]*\"|'[^']*'|[^\]\s]+)\s*(?:[is])?)?\s*\]")
SEL_PSEUDO_ARGS = re.compile(r"(?<!\\)::?[A-Za-z-]+(\((?:[^()]|\([^()]*\))*\))?")
SEL_TAG = re.compile(r"(?:^|[\s>+~(,])([a-zA-Z][a-zA-Z0-9-]*)")


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def selector_matches(selector: str, vocab: PageVocabulary) -> bool:
    """Whether every class, attribute and element the selector names occurs in the page (generous)."""
    # :where(a, b) / :is(a, b): one of the arguments must match; other pseudo-classes' arguments are dropped.
    for m in SEL_PSEUDO_ARGS.finditer(selector):
        name = m.group(0).split("(")[0]
        if name in (":where", ":is") and m.group(1):
            if not any(selector_matches(arg.strip(), vocab) for arg in _split_top(m.group(1)[1:-1], ",")):
                return False
    bare = SEL_PSEUDO_ARGS.sub(" ", selector)
    for m in SEL_ATTR.finditer(bare):
        name, op, raw = m.group(1).lower(), m.group(2), m.group(3)
        if name not in vocab.attrs:
            return False
        if op == "=":
            value = raw.strip("\"'")
            if (name, value) not in vocab.values and name != "class":
                return False
    bare = SEL_ATTR.sub(" ", bare)
    for m in SEL_CLASS.finditer(bare):
        if _unescape(m.group(1)) not in vocab.classes:
            return False
    bare = SEL_CLASS.sub(" ", bare)
    bare = re.sub(r"#(?:\\.|[A-Za-z0-9_-])+", " ", bare)
    for m in SEL_TAG.finditer(" " + bare):
        if m.group(1).lower() not in vocab.tags:
            return False
    return True


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses, brackets and quotes."""
    out, depth, quote, start = [], 0, "", 0
    for k, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == sep and depth == 0:
            out.append(text[start:k])
            start = k + 1
    out.append(text[start:])
    return out


VAR_REF = re.compile(r"var\(\s*(--[A-Za-z0-9_-]+)")


def _declarations(body: str) -> list[tuple[str, str]]:
    out = []
    for part in _split_top(body, ";"):
        name, sep, value = part.partition(":")
        if sep and name.strip():
            out.append((name.strip(), value))
    return out


def _select(rules: list[Rule], vocab: PageVocabulary) -> list[Rule]:
    kept: list[Rule] = []
    for rule in rules:
        if rule.children is not None:
            if rule.prelude.startswith(("@media", "@supports", "@layer", "@container")):
                children = _select(rule.children, vocab)
                if children:
                    kept.append(Rule(prelude=rule.prelude, children=children, at=True))
        elif rule.statement and rule.prelude.startswith("@layer"):
            kept.append(rule)  # the layers' order
        elif rule.at:
            continue  # @keyframes, @font-face, @import, @charset, @property: left to the full sheet
        else:
            selectors = [s for s in _split_top(rule.prelude, ",") if selector_matches(s.strip(), vocab)]
            if selectors:
                kept.append(Rule(prelude=",".join(s.strip() for s in selectors), body=rule.body))
    return kept


def _walk(rules: list[Rule]):
    for rule in rules:
        if rule.children is not None:
            yield from _walk(rule.children)
        else:
            yield rule


def _prune_properties(rules: list[Rule], used_by_page: set[str], only: tuple[str, ...] = ("--",)) -> None:
    """Drop custom-property declarations nothing kept refers to (following ``var()`` chains); the page's own
    styles (Emotion's ``<style>`` tags, ``style`` attributes) count as references too. Only properties whose
    names start with one of ``only`` are candidates."""
    defs: dict[str, list[str]] = {}
    used: set[str] = set(used_by_page)
    for rule in _walk(rules):
        for name, value in _declarations(rule.body):
            refs = VAR_REF.findall(value)
            if name.startswith(only):  # a candidate; the others are kept, so what they refer to is used
                defs.setdefault(name, []).extend(refs)
            else:
                used.update(refs)
    todo = list(used)
    while todo:
        for ref in defs.get(todo.pop(), ()):
            if ref not in used:
                used.add(ref)
                todo.append(ref)
    for rule in _walk(rules):
        decls = _declarations(rule.body)
        if any(name.startswith(only) and name not in used for name, _ in decls):
            rule.body = ";".join(f"{name}:{value}" for name, value in decls
                                 if not name.startswith(only) or name in used)


def _drop_empty(rules: list[Rule]) -> list[Rule]:
    out = []
    for rule in rules:
        if rule.children is not None:
            children = _drop_empty(rule.children)
            if children:
                out.append(Rule(prelude=rule.prelude, children=children, at=True))
        elif rule.body.strip() or rule.statement:
            out.append(rule)
    return out


def serialize(rules: list[Rule]) -> str:
    parts = []
    for rule in rules:
        if rule.children is not None:
            parts.append(f"{rule.prelude}{{{serialize(rule.children)}}}")
        elif rule.statement:
            parts.append(f"{rule.prelude};")
        else:
            parts.append(f"{rule.prelude}{{{rule.body}}}")
    return "".join(parts)


def critical_css(stylesheet: str | list[Rule], html: str) -> str:
    """The part of ``stylesheet`` the page ``html`` needs for its first paint (see the module docstring)."""
    rules = parse(stylesheet) if isinstance(stylesheet, str) else stylesheet
    kept = _select(rules, vocabulary(html))
    _prune_properties(kept, set(VAR_REF.findall(html)))
    return serialize(_drop_empty(kept))


# --------------------------------------------------------------------------------------------- the full sheet
# The full stylesheet the pages load after the first paint is Radix Themes' complete ``styles.css`` (~700 KB):
# its parse and style recalculation were the longest task after the paint (180-320 ms at 4x CPU). Most of it
# styles components no page renders. :func:`purge_stylesheet` drops what provably never applies, testing each
# selector as :func:`critical_css` does but against the whole site (every built JavaScript chunk and page):
# a class must occur in it as a word (``rt-Button``), or be built from a prefix that does (Radix Themes builds
# ``rt-r-size-2``/``md:rt-r-size-2`` from the literal ``rt-r-size``, ``rt-variant-soft`` from ``rt-variant``);
# element and attribute names always may; an accent or gray colour (``[data-accent-color=red]``) must be
# named by the app (:func:`named_palettes`: its compiled code, its pages or its Python sources, where a
# state may return a colour), and the custom properties of the palettes dropped (``--red-9``...) go too
# unless something kept still refers to them. ``@font-face``, ``@keyframes`` and the like stay.
ACCENT_PALETTES = ("gray", "gold", "bronze", "brown", "yellow", "amber", "orange", "tomato", "red", "ruby", "crimson",
                   "pink", "plum", "purple", "violet", "iris", "indigo", "blue", "cyan", "teal", "jade", "green",
                   "grass", "lime", "mint", "sky")
GRAY_PALETTES = ("mauve", "slate", "sage", "olive", "sand")
PALETTE_ATTRS = ("data-accent-color", "data-gray-color")
BREAKPOINT_PREFIX = re.compile(r"^(initial|xs|sm|md|lg|xl):")
BREAKPOINTS = ("initial", "xs", "sm", "md", "lg", "xl")
WORD = re.compile(r"[A-Za-z0-9_-]+")
COLOUR_MODE = {"light", "dark", "light-theme", "dark-theme"}  # set on <html> by the colour-mode script


class _Anything:
    def __contains__(self, item) -> bool:
        return True


class _SiteClasses:
    """The class names the site's pages and scripts may produce (generous: see the comment above)."""

    def __init__(self, words: set[str], breakpoints):
        self.words, self.breakpoints = words, set(breakpoints)

    def __contains__(self, name: str) -> bool:
        bp = BREAKPOINT_PREFIX.match(name)
        if bp and bp.group(1) not in self.breakpoints:
            return False
        name = name[bp.end():] if bp else name
        if name in self.words:
            return True
        parts = name.split("-")
        return any("-".join(parts[:k]) in self.words or "-".join(parts[:k]) + "-" in self.words
                   for k in range(2, len(parts)))


class _SiteValues:
    """``[attr=value]``: a colour palette must be named by the app; any other value may occur."""

    def __init__(self, palettes: set[str]):
        self.palettes = palettes

    def __contains__(self, pair: tuple[str, str]) -> bool:
        name, value = pair
        return name not in PALETTE_ATTRS or value in self.palettes


def site_vocabulary(texts, palettes: set[str], breakpoints: tuple[str, ...] | set[str] = BREAKPOINTS) -> PageVocabulary:
    """What the whole site may render: the words of ``texts`` (built JS and HTML) as classes, the ``palettes``
    as colours, responsive classes (``md:rt-r-size-2``) for the ``breakpoints`` only, any element and
    attribute."""
    words: set[str] = set(COLOUR_MODE)
    for text in texts:
        words.update(WORD.findall(text))
    vocab = PageVocabulary()
    vocab.classes, vocab.tags, vocab.attrs = _SiteClasses(words, breakpoints), _Anything(), _Anything()  # type: ignore[assignment]
    vocab.values = _SiteValues(palettes)  # type: ignore[assignment]
    return vocab


def named_palettes(texts) -> set[str]:
    """The Radix colours the app names anywhere in ``texts`` as a quoted string or a ``--colour-`` property,
    plus gray (the neutral every component falls back to)."""
    names = ACCENT_PALETTES + GRAY_PALETTES
    pattern = re.compile(r"""["'`](%s)["'`]|--(%s)-""" % ("|".join(names), "|".join(names)))
    found = {"gray"}
    for text in texts:
        found.update(a or b for a, b in pattern.findall(text))
    return found


def used_breakpoints(texts) -> set[str]:
    """The breakpoints the app gives a responsive value for (``size={"initial": "2", "lg": "3"}`` in its
    compiled code, ``rx.breakpoints(lg=...)`` or a ``"lg":`` key in its Python sources); Radix Themes builds
    the ``lg:`` classes from such an object only."""
    pattern = re.compile(r"""(?:["'`[](%s)["'`]\]?\s*:)|(?:\b(%s)\s*=[^=])""" % ("|".join(BREAKPOINTS),
                                                                            "|".join(BREAKPOINTS)))
    found = {"initial"}
    for text in texts:
        found.update(a or b for a, b in pattern.findall(text))
    return found


def _purge(rules: list[Rule], vocab: PageVocabulary) -> list[Rule]:
    kept: list[Rule] = []
    for rule in rules:
        if rule.children is not None:
            children = _purge(rule.children, vocab)
            if children:
                kept.append(Rule(prelude=rule.prelude, children=children, at=True))
        elif rule.at or rule.statement:
            kept.append(rule)  # @font-face, @keyframes, @property, @layer a,b; ...
        else:
            selectors = [s for s in _split_top(rule.prelude, ",") if selector_matches(s.strip(), vocab)]
            if selectors:
                kept.append(Rule(prelude=",".join(s.strip() for s in selectors), body=rule.body))
    return kept


def purge_stylesheet(stylesheet: str | list[Rule], site_texts, app_texts) -> str:
    """``stylesheet`` without the rules no page of the site can match and the unused palettes' properties.
    ``site_texts``: every built script and page; ``app_texts``: the app's own code (compiled and Python), where
    colours and responsive values are named."""
    texts, app = list(site_texts), list(app_texts)
    palettes = named_palettes(app)
    attr = re.compile(r"""data-(?:accent|gray)-color=["']?([a-z]+)""")  # as rendered in the prerendered pages
    for text in texts:
        palettes.update(attr.findall(text))
    rules = parse(stylesheet) if isinstance(stylesheet, str) else stylesheet
    kept = _purge(rules, site_vocabulary(texts, palettes, used_breakpoints(app)))
    dropped = tuple(f"--{name}-" for name in ACCENT_PALETTES + GRAY_PALETTES if name not in palettes)
    if dropped:
        used: set[str] = set()
        for text in texts:
            used.update(VAR_REF.findall(text))
        _prune_properties(kept, used, only=dropped)
    return serialize(_drop_empty(kept))


# --------------------------------------------------------------------------------------------- the rewrite
STYLE_PRELOAD = re.compile(
    r'<link(?=[^>]*\brel="preload")(?=[^>]*\bas="style")[^>]*\bhref="/assets/__reflex_global_styles-[^"]+"[^>]*>')
MODULEPRELOAD = re.compile(r'<link(?=[^>]*\brel="modulepreload")([^>]*?)\bhref="([^"]+)"([^>]*)>')
HELD_REL = "nxd-modulepreload"  # a preload without href makes Chromium warn; an unknown rel is ignored
BOOT_SCRIPT = re.compile(r'<script type="module" async="">(.*?)</script>', re.S)
STATIC_IMPORT = re.compile(r'^\s*import\s+(?:\*\s+as\s+([A-Za-z_$][\w$]*)\s+from\s+)?"([^"]+)";\s*$', re.M)

# Taps before hydration. The page is painted (and looks ready) before React has hydrated it; a click on a
# button, a [role=button], a summary, a label, a checkbox or radio, or a link without a real address on an
# element React has not hydrated yet (no own ``__reactProps$...`` key: React keeps the server's nodes and
# marks each one as it hydrates it) is held: prevented, the element marked ``aria-busy`` and the page's
# cursor busy, then replayed once React has hydrated that element (polled per frame; after 15 s it is
# replayed anyway, natively). A pointer tap is replayed as pointerdown/mousedown/pointerup/mouseup/click
# (Radix menus open on pointerdown), a keyboard activation (Enter/Space: a click with detail 0) as a click.
# Repeated taps on a held element count once. Plain links with an address navigate natively, untouched.
TAP_GUARD = """(function(){var SEL='button,[role=button],summary,label,input[type=checkbox],input[type=radio],\
a:not([href]),a[href="#"]',LIMIT=15000,q=[],raf=0,H=document.documentElement;\
function ready(e){return Object.keys(e).some(function(k){return k.indexOf("__reactProps$")===0})}\
function replay(it){var e=it.e;e.removeAttribute("aria-busy");if(!ready(e))e.__nxdPass=1;\
if(it.p){var o={bubbles:true,cancelable:true,composed:true,button:0,buttons:1,pointerId:1,isPrimary:true,\
pointerType:it.p,view:window};e.dispatchEvent(new PointerEvent("pointerdown",o));\
e.dispatchEvent(new MouseEvent("mousedown",o));o.buttons=0;e.dispatchEvent(new PointerEvent("pointerup",o));\
e.dispatchEvent(new MouseEvent("mouseup",o))}e.click();e.__nxdPass=0}\
function tick(){raf=0;while(q.length){var it=q[0];\
if(!it.e.isConnected&&it.id)it.e=document.getElementById(it.id)||it.e;\
if(!it.e.isConnected){q.shift();continue}if(!ready(it.e)&&Date.now()-it.t<LIMIT)break;q.shift();replay(it)}\
if(q.length)raf=requestAnimationFrame(tick);else H.removeAttribute("data-nxd-busy")}\
addEventListener("click",function(ev){var t=ev.target,e=t&&t.closest&&t.closest(SEL);\
if(!e||e.__nxdPass||ready(e))return;ev.preventDefault();ev.stopImmediatePropagation();\
for(var i=0;i<q.length;i++)if(q[i].e===e)return;\
q.push({e:e,id:e.id,t:Date.now(),p:ev.detail?(ev.pointerType||"mouse"):""});e.setAttribute("aria-busy","true");\
H.setAttribute("data-nxd-busy","");if(!raf)raf=requestAnimationFrame(tick)},true)})();"""
BUSY_CSS = "html[data-nxd-busy],html[data-nxd-busy] *{cursor:progress!important}"
GUARD_MARK = "data-nxd-taps"

# The held links get their address back a few at a time, one macrotask per batch (the stylesheet first):
# starting ~70 fetches in one go was a 180 ms task on the 4x slowed-down phone of Lighthouse's preset.
LOADER = """(function(){function y(f){var c=new MessageChannel;c.port1.onmessage=function(){f()};\
c.port2.postMessage(0)}\
function go(){if(window.__nxdBoot)return;window.__nxdBoot=1;\
var ls=[].slice.call(document.querySelectorAll("link[data-nxd-href]"));\
ls.sort(function(a,b){return (b.rel==="stylesheet")-(a.rel==="stylesheet")});\
(function next(){ls.splice(0,%(batch)d).forEach(function(l){l.href=l.getAttribute("data-nxd-href");\
if(l.rel==="%(held)s")l.rel="modulepreload"});if(ls.length)y(next);else boot()})()}\
function boot(){%(chain)s.then(function(m){%(names)s\n%(rest)s\n}).catch(function(e){console.error(e)})}\
if(document.visibilityState==="hidden")go();else requestAnimationFrame(function(){setTimeout(go,0)});\
setTimeout(go,%(fallback)d)})();"""
LINK_BATCH = 8
FALLBACK_MS = 3000  # start anyway if no frame comes
# The instructor workstation keeps its pages as built: its service worker (nexdrive/offline.py) caches them
# for use offline, and nobody measures its first paint on a slow phone network.
SKIPPED = ("instructor",)


# Evaluating a module evaluates every module it imports in the same task: ``import("root")`` ran ~1 MB of
# JavaScript at once. Given the page's chunks in dependency order (leaves first, :func:`evaluation_order`),
# the boot imports them one by one and yields to the browser (a macrotask) between two, so each task
# evaluates one chunk; the fetching is unchanged (all the chunks were preloaded in parallel just before).
SEQUENCE = ("(function(l){var y=function(){return new Promise(function(r){var c=new MessageChannel;"
            "c.port1.onmessage=function(){r()};c.port2.postMessage(0)})};"
            "return l.reduce(function(p,u){return p.then(function(){return import(u)}).then(y)},Promise.resolve())})")


def deferred_boot(code: str, order: list[str] | tuple[str, ...] = ()) -> str | None:
    """React Router's module boot script as a classic script that starts it after the first paint.

    ``import "manifest"; import * as route0 from "root"; ...; rest`` becomes: after the next frame, the
    held-back links get their ``href``, the manifest is imported, then the route modules, then ``rest``
    runs with ``route0``... bound. ``None`` when the script is not of that shape."""
    imports = STATIC_IMPORT.findall(code)
    rest = STATIC_IMPORT.sub("", code).strip()
    if not imports or "import " in rest.replace("import(", "") or imports[0][0]:
        return None
    first, routes = imports[0][1], imports[1:]
    chain = f'import("{first}")'
    if order:
        chain = f"{SEQUENCE}({json.dumps(list(order), separators=(',', ':'))}).then(function(){{return {chain}}})"
    if routes:
        chain += ".then(function(){return Promise.all([" + ",".join(f'import("{u}")' for _, u in routes) + "])})"
    names = "".join(f"var {name}=m[{i}];" for i, (name, _) in enumerate(routes))
    return LOADER % {"chain": chain, "names": names, "rest": rest, "fallback": FALLBACK_MS,
                     "held": HELD_REL, "batch": LINK_BATCH}


def rewrite_page(html: str, css: str, order: list[str] | tuple[str, ...] = (), sheet: str | None = None) -> str:
    """The page with ``css`` inlined, the global stylesheet and the module preloads held back until after
    the first paint, and the boot script deferred to then (idempotent; unchanged if the shape differs).

    ``sheet``: the address of the purged full stylesheet (:func:`purge_build_sheet`), loaded instead of the
    built one from a ``<link>`` of its own just before React's. React hydrates the ``<link>``s of ``<head>``
    by their ``href`` (a stylesheet or preload link it does not find is added again at the end of
    ``<head>``, after Emotion's styles, whose rules it would then override), so React's two links keep the
    built sheet's address but never load it: the stylesheet link is ``disabled`` (not fetched, not applied),
    the preload hint's ``media`` matches nothing."""
    if MARKER in html:
        return html
    m = GLOBAL_SHEET.search(html)
    boot = BOOT_SCRIPT.search(html)
    loader = deferred_boot(boot.group(1), order) if boot else None
    if not m or loader is None:
        return html
    link = m.group(0)
    built = f'href="{m.group(1)}"'
    if sheet:
        react = link.replace("<link", '<link disabled=""', 1).replace(built, f'data-nxd-{built}', 1)
        link = link.replace(built, f'href="{sheet}"', 1)
        held = link.replace(f'href="{sheet}"', f'data-nxd-href="{sheet}" {PURGED_MARK}', 1) + react
    else:
        held = link.replace(built, f'data-nxd-{built}', 1)
    safe = css.replace("</", "<\\/")
    guard = f"<script {GUARD_MARK}>{TAP_GUARD}</script><style {GUARD_MARK}>{BUSY_CSS}</style>"
    out = (html[:m.start()] + f"{guard}<style {MARKER}>{safe}</style>{held}<noscript>{link}</noscript>"
           + html[m.end():])
    out = STYLE_PRELOAD.sub(lambda p: p.group(0).replace("<link", '<link media="not all"', 1) if sheet else "", out)
    out = MODULEPRELOAD.sub(lambda p: f'<link{p.group(1)}data-nxd-href="{p.group(2)}"{p.group(3)}>'
                            .replace('rel="modulepreload"', f'rel="{HELD_REL}"', 1), out)
    boot = BOOT_SCRIPT.search(out)
    return out[:boot.start()] + "<script>" + loader.replace("</", "<\\/") + "</script>" + out[boot.end():]


# A chunk's static imports (``import{a as b}from"./x.js"``, ``import"./x.js"``, ``export{..}from"./x.js"``).
CHUNK_IMPORT = re.compile(r'(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{}\s,]*?from\s*)?"\./([^"]+\.js)"')
ENTRY_IMPORT = re.compile(r'import\("([^"]+)"\)')


class ChunkGraph:
    """The static imports between the build's JavaScript chunks (``assets/*.js``), read on demand."""

    def __init__(self, assets: Path):
        self.assets = assets
        self._deps: dict[str, list[str]] = {}

    def deps(self, url: str) -> list[str]:
        if url not in self._deps:
            path = self.assets / url.rsplit("/", 1)[-1]
            code = path.read_text(encoding="utf-8") if path.is_file() else ""
            self._deps[url] = list(dict.fromkeys("/assets/" + d for d in CHUNK_IMPORT.findall(code)))
        return self._deps[url]


def evaluation_order(graph: ChunkGraph, roots: list[str], entry: str | None, allowed: set[str]) -> list[str]:
    """The chunks the boot script evaluates, leaves first, in the order the browser would (depth-first,
    imports in source order, each after its imports): the ``roots`` (manifest, route modules) and the client
    entry's imports but not the entry itself (it hydrates, after the route modules are registered). Only
    ``allowed`` chunks (preloaded by the page), and none that is part of an import cycle or depends on one
    (the browser's order inside a cycle depends on where it is entered: left to the original imports)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    tainted: set[str] = set()

    def visit(url: str) -> bool:  # False when url is in or above a cycle
        if state.get(url) == 1:
            return False
        if state.get(url) == 2:
            return url not in tainted
        state[url] = 1
        ok = True
        for dep in graph.deps(url):
            ok = visit(dep) and ok
        state[url] = 2
        if not ok:
            tainted.add(url)
        elif url in allowed:
            order.append(url)
        return ok

    for root in roots:
        visit(root)
    if entry:
        for dep in graph.deps(entry):
            visit(dep)
    return [u for u in order if u != entry]


def _page_order(graph: ChunkGraph, html: str) -> list[str]:
    boot = BOOT_SCRIPT.search(html)
    if not boot:
        return []
    roots = [u for _, u in STATIC_IMPORT.findall(boot.group(1))]
    entry = ENTRY_IMPORT.findall(STATIC_IMPORT.sub("", boot.group(1)))
    allowed = {p.group(2) for p in MODULEPRELOAD.finditer(html)}
    return evaluation_order(graph, roots, entry[-1] if entry else None, allowed)




def app_texts(static_dir: Path):
    """The app's own code: the compiled pages and components in the web directory (``.web/app``...,
    ``static_dir`` being ``.web/build/client``) and the Python package's sources (a state may return a
    colour), this module aside."""
    web = static_dir.parent.parent
    for folder in ("app", "app_components", "components", "utils"):
        for path in sorted((web / folder).rglob("*.js*")) if (web / folder).is_dir() else ():
            yield path.read_text(encoding="utf-8", errors="replace")
    here = Path(__file__).resolve()
    for path in sorted(here.parent.rglob("*.py")):
        if path != here:
            yield path.read_text(encoding="utf-8", errors="replace")


def purge_build_sheet(static_dir: Path, sheet: Path) -> str:
    """Write the purged copy of the built ``sheet`` (:func:`purge_stylesheet`) beside it, under a name
    hashed from its content (assets are cached as immutable); its address."""
    site = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((static_dir / "assets").glob("*.js"))]
    site += [p.read_text(encoding="utf-8", errors="replace") for p in sorted(static_dir.rglob("*.html"))]
    purged = purge_stylesheet(sheet.read_text(encoding="utf-8"), site, app_texts(static_dir))
    digest = hashlib.sha256(purged.encode()).hexdigest()[:12]
    target = sheet.with_name(PURGED_NAME.format(digest=digest))
    target.write_text(purged, encoding="utf-8")
    return "/" + target.relative_to(static_dir).as_posix()


def rewrite_build(static_dir: Path) -> list[tuple[str, int]]:
    """Rewrite every prerendered page under ``static_dir``; (page, inlined bytes) for each."""
    out = []
    parsed: dict[Path, list[Rule]] = {}
    purged: dict[Path, str] = {}
    graph = ChunkGraph(static_dir / "assets")
    for page in sorted(static_dir.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        m = GLOBAL_SHEET.search(html)
        if not m or MARKER in html or page.name in ("404.html", "__spa-fallback.html"):
            continue
        if page.relative_to(static_dir).as_posix().startswith(SKIPPED):
            continue
        sheet = static_dir / m.group(1).lstrip("/")
        if not sheet.is_file():
            continue
        if sheet not in parsed:
            parsed[sheet] = parse(sheet.read_text(encoding="utf-8"))
            purged[sheet] = purge_build_sheet(static_dir, sheet)
        css = critical_css(parsed[sheet], html)
        rewritten = rewrite_page(html, css, _page_order(graph, html), purged[sheet])
        if rewritten != html:
            page.write_text(rewritten, encoding="utf-8")
            out.append((page.relative_to(static_dir).as_posix(), len(css.encode())))
    return out


class FirstPaintPlugin(rx.plugins.Plugin):
    """Inlines each prerendered page's critical CSS and defers the rest (module docstring), every build."""

    def post_build(self, **context) -> None:
        rewrite_build(Path(context["static_dir"]))


if __name__ == "__main__":  # python -m nexdrive.first_paint .web/build/client  (on a finished build, served)
    import gzip
    import sys

    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".web/build/client")
    for name, size in rewrite_build(root):
        if name == "index.html":  # the purged sheet(s), written by the rewrite
            for css in (root / "assets").glob(PURGED_NAME.format(digest="*")):
                css.with_name(css.name + ".gz").write_bytes(gzip.compress(css.read_bytes(), 9))
        page = root / name
        for ext in (".br", ".zst"):  # Reflex's compressor ran before: its sidecars are stale now
            page.with_name(page.name + ext).unlink(missing_ok=True)
        if page.with_name(page.name + ".gz").exists():
            page.with_name(page.name + ".gz").write_bytes(gzip.compress(page.read_bytes(), 9))
        print(f"{size / 1024:7.1f} KB  {name}")
