"""Radix Themes tree-shaken: the app root no longer pulls in the library's whole namespace.

Reflex 0.10's app root (``.web/app/root.jsx``) does ``import * as radix_ui_themes from "@radix-ui/themes"`` to put
the library on ``window.__reflex`` for *dynamic* components (components returned by state and evaluated in
the browser), so the bundler keeps every Radix Themes component in the chunk every page loads (~280 KB,
70-160 ms of script evaluation on Lighthouse's slowed-down phone). With ``frontend_lazy_bundled_libraries``
(``rxconfig.py``) the root imports it lazily instead, ``import("@radix-ui/themes")`` inside
``window.__reflex_load``; but that dynamic import of the whole namespace still makes the bundler emit one
chunk with the library's barrel and every unused component, which the root and the pages then import
statically (for ``Theme``, ``Button``...): nothing saved. The app has no dynamic components (a unit test
checks that no state var holds a component), so :class:`LeanBundlePlugin` removes that loader from the
compiled root at every compile; only the components the pages import remain in the bundle.
If the app ever gets a dynamic component, drop this plugin (the component would find no Radix Themes).
"""
from __future__ import annotations

import reflex as rx

ROOT_JSX = "app/root.jsx"
RADIX_LOADER = '    "@radix-ui/themes": () => import("@radix-ui/themes"),\n'
MARK = "nexdrive (nexdrive/lean_bundle.py)"


class PatchError(RuntimeError):
    """The compiled root no longer has the shape the patch expects (a Reflex upgrade): fails the build."""


def patch_root(text: str) -> str:
    """``root.jsx`` without the lazy loader of Radix Themes' whole namespace (idempotent)."""
    if MARK in text:
        return text
    if text.count(RADIX_LOADER) != 1:
        raise PatchError(f"{ROOT_JSX}: expected exactly one lazy Radix Themes loader (is "
                         "frontend_lazy_bundled_libraries on in rxconfig.py?); review nexdrive/lean_bundle.py")
    if "import * as radix_ui_themes" in text:
        raise PatchError(f"{ROOT_JSX}: Radix Themes is still imported as a namespace")
    return text.replace(RADIX_LOADER, f"    // {MARK}: no dynamic components, Radix Themes not loaded whole\n", 1)


class LeanBundlePlugin(rx.plugins.Plugin):
    """Patches the compiled app root so Radix Themes is tree-shaken (module docstring)."""

    def pre_compile(self, **context) -> None:
        context["add_modify_task"](ROOT_JSX, patch_root)
