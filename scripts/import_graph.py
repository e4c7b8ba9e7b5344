"""Draw the import graph by package from the code (for docs/architecture.md): python scripts/import_graph.py"""
from __future__ import annotations

import sys
from pathlib import Path

import grimp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LAYERS = {
    "nexdrive.pages": "pages",
    "nexdrive.components": "components",
    "nexdrive.state": "state",
    "nexdrive.http_app": "http app",
    "nexdrive.api": "api",
    "webhooks": "webhooks",
    "jobs": "jobs",
    "nexdrive.data": "data (seed)",
    "nexdrive.adapters": "adapters",
    "nexdrive.models": "models",
}


def group(module: str) -> str | None:
    if ".tests" in module:
        return None  # tests beside a provider's webhook use the whole app
    if module.startswith("nexdrive.services."):
        return "services." + module.split(".")[2]
    for prefix, name in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    return None


def edges() -> set[tuple[str, str]]:
    graph = grimp.build_graph("nexdrive", "webhooks", "jobs")
    found = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = group(module), group(imported)
            if a and b and a != b:
                found.add((a, b))
    return found


def cycles(found: set[tuple[str, str]]) -> list[tuple[str, str]]:
    services = {(a, b) for a, b in found if a.startswith("services.") and b.startswith("services.")}
    return sorted((a, b) for a, b in services if (b, a) in services)


def node(name: str) -> str:
    return name.replace(" ", "_").replace("(", "").replace(")", "").replace(".", "_")


if __name__ == "__main__":
    found = edges()
    # 1. the layers, services as one box
    layered = {(a if not a.startswith("services.") else "services", b if not b.startswith("services.") else "services")
               for a, b in found}
    print("```mermaid\nflowchart TD")
    for a, b in sorted(e for e in layered if e[0] != e[1]):
        print(f'    {node(a)}["{a}"] --> {node(b)}["{b}"]')
    print("```\n")
    # 2. inside services
    print("```mermaid\nflowchart TD")
    for a, b in sorted(e for e in found if e[0].startswith("services.") and e[1].startswith("services.")):
        print(f'    {node(a)}["{a}"] --> {node(b)}["{b}"]')
    print("```")
    print(f"\n{len(found)} edges; cycles between service packages: {cycles(found) or 'none'}")
