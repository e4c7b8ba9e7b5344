"""Radix Themes tree-shaken (nexdrive/lean_bundle.py): the compiled app root of this Reflex, patched."""
from __future__ import annotations

import importlib
import pkgutil

import pytest
import reflex as rx
from reflex_base.compiler import templates

import nexdrive.pages
from nexdrive import lean_bundle as lb


def root(lazy: bool) -> str:
    libs = [("React", "react"), ("radix_ui_themes", "@radix-ui/themes")]
    return templates.app_root_template(
        imports=[], custom_codes=[], hooks={}, render=rx.fragment().render(), dynamic_imports=set(),
        window_libraries=libs[:1] if lazy else libs, lazy_window_libraries=libs[1:] if lazy else None)


def test_the_lazy_root_of_this_reflex_loses_its_radix_loader_once_and_idempotently():
    original = root(lazy=True)
    patched = lb.patch_root(original)
    assert 'import("@radix-ui/themes")' in original and 'import("@radix-ui/themes")' not in patched
    assert "import * as radix_ui_themes" not in patched
    assert "window.__reflex_load = () =>" in patched  # Reflex's state.js still awaits it: it resolves at once
    assert lb.patch_root(patched) == patched


def test_a_root_importing_the_whole_namespace_fails_the_build():
    with pytest.raises(lb.PatchError):
        lb.patch_root(root(lazy=False))  # frontend_lazy_bundled_libraries switched off


def test_no_state_holds_a_component():
    """Dynamic (state-returned) components would need Radix Themes on window.__reflex, which the patch drops."""
    for mod in pkgutil.walk_packages(nexdrive.pages.__path__, "nexdrive.pages."):
        importlib.import_module(mod.name)
    seen = 0
    todo = list(rx.State.get_substates())
    while todo:
        state = todo.pop()
        todo.extend(state.get_substates())
        seen += 1
        for name, var in {**state.base_vars, **state.computed_vars}.items():
            kind = getattr(var, "_var_type", None)
            assert not (isinstance(kind, type) and issubclass(kind, rx.Component)), f"{state.__name__}.{name}"
    assert seen > 10
