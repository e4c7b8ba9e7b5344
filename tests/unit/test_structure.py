"""The house rules of docs/architecture.md, checked on every run."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "nexdrive" / "services"


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["nexdrive", "services"] else None


def test_import_contracts_hold():
    """pages/API/jobs -> services -> adapters/models; core and messaging import no domain; no cycles."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _private_uses(path: Path) -> list[str]:
    """Private names (leading underscore) taken from another service package, by import or attribute."""
    here = _package_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
    tree = ast.parse(path.read_text(), str(path))
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nexdrive.services"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                aliases[alias.asname or alias.name] = target
                if alias.name.startswith("_") and _package_of(node.module) != here:
                    found.append(f"{path.name}:{node.lineno} imports {target}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in aliases):
            owner = aliases[node.value.id]
            if _package_of(owner) and _package_of(owner) != here:
                found.append(f"{path.name}:{node.lineno} uses {owner}.{node.attr}")
    return found


def test_no_module_uses_another_packages_private_names():
    roots = [ROOT / "nexdrive", ROOT / "webhooks", ROOT / "jobs"]
    found = [use for r in roots for p in sorted(r.rglob("*.py")) for use in _private_uses(p)]
    assert found == []


def test_services_are_packages_not_loose_modules():
    loose = [p.name for p in SERVICES.glob("*.py") if p.name != "__init__.py"]
    assert loose == []
    for package in (p for p in SERVICES.iterdir() if p.is_dir() and p.name != "__pycache__"):
        init = package / "__init__.py"
        assert init.exists() and ast.get_docstring(ast.parse(init.read_text())), f"{package.name} says what it is"


def test_roles_are_named_predicates_not_strings():
    """Access rules read Actor.is_student, .sees_everything, ... never `actor.role == "..."` ladders."""
    import re

    ladder = re.compile(r"\b(?:actor|a|who)\.role\s*(?:==|!=|in|not in)\s")
    found = [f"{p.relative_to(ROOT)}:{n}" for r in ("nexdrive/services", "webhooks", "jobs")
             for p in sorted((ROOT / r).rglob("*.py")) if p.name != "actors.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if ladder.search(line)]
    assert found == []


def test_async_handlers_do_no_blocking_database_work():
    """An `async def` route that opens a session stalls every request on that worker: use a plain def
    (FastAPI runs it in a thread) or run_in_threadpool around a nested function."""
    found = []
    for root in (ROOT / "nexdrive" / "api", ROOT / "webhooks"):
        for path in sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.AsyncFunctionDef):
                    continue
                stack = list(node.body)
                while stack:
                    child = stack.pop()
                    if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                        continue  # a nested function is what run_in_threadpool runs
                    if (isinstance(child, ast.Call) and isinstance(child.func, ast.Name)
                            and child.func.id == "session_scope"):
                        found.append(f"{path.relative_to(ROOT)}:{child.lineno} in {node.name}")
                    stack.extend(ast.iter_child_nodes(child))
    assert found == []


def test_ruff_is_clean():
    """The lint rules in pyproject.toml hold over the whole tree."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]
