"""The page's load state rendered time-sliced: Reflex's websocket deltas applied in a React transition.

After the first paint (``nexdrive/first_paint.py``) the longest task left on a slow phone was often the
first state arriving over the websocket (the page's hydrate and ``on_load`` deltas): Reflex applies a delta
by notifying a ``useSyncExternalStore`` store, and React always renders an external store's change
synchronously, in one task (50-215 ms at 4x CPU; on ``/book`` the booking widget's day buttons and time
grid). Wrapping the dispatch in ``startTransition`` alone changes nothing for such a store (React renders
store updates at sync priority whatever the caller), so two files of Reflex's runtime are patched at build
time (a plugin's ``pre_compile`` ``add_modify_task``):

* ``utils/context-registry.js``: ``useStateContext`` keeps the substate in component state
  (``useState``), subscribed to the same store in an effect, instead of ``useSyncExternalStore``; an
  update made inside ``startTransition`` is then a transition React renders in slices, yielding to input;
* ``utils/state.js``: the deltas received over the websocket are applied inside ``startTransition``
  **until the visitor first interacts with the page** (the first ``pointerdown``, ``keydown`` or ``input``); from
  then on they are applied as before (an immediate render), so typing into controlled inputs and the
  answers to taps behave exactly as they did. The instructor workstation's pages (``/instructor``) never
  use the transition (its offline queue and recording screens are left as Reflex built them).

Both patches are idempotent (the files on disk may already be patched) and raise :class:`PatchError` —
failing the build — when Reflex's code no longer has the shape they expect (``tests/unit``
checks them against the installed Reflex's templates).
"""
from __future__ import annotations

import reflex as rx

STATE_JS = "utils/state.js"
REGISTRY_JS = "utils/context-registry.js"
MARK = "nxdApply"  # present once a file is patched
SKIPPED_PREFIX = "/instructor"


class PatchError(RuntimeError):
    """Reflex's runtime no longer has the shape the patch expects (a Reflex upgrade): fails the build."""


def _replace_once(text: str, old: str, new: str, file: str) -> str:
    count = text.count(old)
    if count != 1:
        raise PatchError(f"{file}: expected exactly one {old!r} (found {count}); Reflex's runtime changed, "
                         "review nexdrive/load_transition.py")
    return text.replace(old, new, 1)


STATE_REACT_IMPORT = 'import { useCallback, useEffect, useRef, useState } from "react";'
STATE_DISPATCH = """        for (const substate in delta) {
          dispatch[substate](delta[substate]);
        }
"""
STATE_HELPER = """
// nexdrive (nexdrive/load_transition.py): until the visitor first interacts with the page, the deltas
// received over the websocket (the page's load state) are applied in a React transition, rendered in
// slices instead of one long task; afterwards as before. Not on the instructor workstation's pages.
let nxdLoading =
  typeof window !== "undefined" &&
  !window.location.pathname.startsWith("%(skipped)s");
if (nxdLoading) {
  const nxdEnd = () => {
    nxdLoading = false;
  };
  for (const type of ["pointerdown", "keydown", "input"]) {
    window.addEventListener(type, nxdEnd, { capture: true, once: true });
  }
}
// An error while applying reaches the caller's catch as before (startTransition would report it globally).
const %(mark)s = (apply) => {
  if (!nxdLoading) return apply();
  let failed = null;
  startTransition(() => {
    try {
      apply();
    } catch (error) {
      failed = { error };
    }
  });
  if (failed) throw failed.error;
};
""" % {"skipped": SKIPPED_PREFIX, "mark": MARK}


def patch_state_js(text: str) -> str:
    """``state.js`` with the websocket's deltas applied through ``nxdApply`` (idempotent)."""
    if MARK in text:
        return text
    text = _replace_once(text, STATE_REACT_IMPORT, STATE_REACT_IMPORT.replace(
        "useState }", "useState, startTransition }") + STATE_HELPER, STATE_JS)
    return _replace_once(text, STATE_DISPATCH, """        %s(() => {
          for (const substate in delta) {
            dispatch[substate](delta[substate]);
          }
        });
""" % MARK, STATE_JS)


REGISTRY_IMPORT = """import {
  createContext,
  useContext,
  useMemo,
  useSyncExternalStore,
} from "react";"""
REGISTRY_READ = "  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);\n"
REGISTRY_NEW_READ = """  // nexdrive (nexdrive/load_transition.py, %(mark)s): component state subscribed to the store,
  // instead of useSyncExternalStore (whose updates React always renders synchronously), so that a delta
  // applied in startTransition renders as a transition; an update outside one renders as before.
  const [held, setHeld] = useState(() => ({ getSnapshot, value: getSnapshot() }));
  useEffect(() => {
    const update = () => {
      const value = getSnapshot();
      setHeld((h) =>
        h.getSnapshot === getSnapshot && Object.is(h.value, value) ? h : { getSnapshot, value },
      );
    };
    update(); // a change between the render and this effect
    return subscribe(update);
  }, [subscribe, getSnapshot]);
  return held.getSnapshot === getSnapshot ? held.value : getSnapshot();
""" % {"mark": MARK}


def patch_context_registry(text: str) -> str:
    """``context-registry.js`` with ``useStateContext`` reading through component state (idempotent)."""
    if MARK in text:
        return text
    text = _replace_once(text, REGISTRY_IMPORT, """import {
  createContext,
  useContext,
  useEffect,
  useMemo,
  useState,
} from "react";""", REGISTRY_JS)
    if text.count("export function useStateContext(") != 1:
        raise PatchError(f"{REGISTRY_JS}: useStateContext not found; Reflex's runtime changed")
    return _replace_once(text, REGISTRY_READ, REGISTRY_NEW_READ, REGISTRY_JS)


class LoadStateTransitionPlugin(rx.plugins.Plugin):
    """Patches Reflex's runtime at every compile so the page's load state renders as a transition."""

    def pre_compile(self, **context) -> None:
        context["add_modify_task"](REGISTRY_JS, patch_context_registry)
        context["add_modify_task"](STATE_JS, patch_state_js)
