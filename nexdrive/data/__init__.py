"""Data files shipped with NexDrive and the loaders that validate them.

* ``cbta_catalogue.json``: the ACT CBT&A catalogue (23 competencies + 2
  reviews) and its rules. Kept as data so a school can correct it; point the
  ``NEXDRIVE_CBTA_CATALOGUE`` environment variable at a replacement file.
* ``default_services.json``: starting lesson types and prices for a new
  install (integer cents AUD, the full amount the learner pays).

Both loaders raise ``ValueError`` with a message naming the file and the
problem when a file is missing, is not valid JSON, or breaks a rule.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = [
    "CATALOGUE_ENV_VAR",
    "DATA_DIR",
    "DEFAULT_CATALOGUE_PATH",
    "DEFAULT_SERVICES_PATH",
    "ELIGIBILITY_VALUES",
    "SERVICE_CATEGORIES",
    "TASK_KINDS",
    "load_cbta_catalogue",
    "load_default_services",
]

DATA_DIR = Path(__file__).resolve().parent
DEFAULT_CATALOGUE_PATH = DATA_DIR / "cbta_catalogue.json"
DEFAULT_SERVICES_PATH = DATA_DIR / "default_services.json"
CATALOGUE_ENV_VAR = "NEXDRIVE_CBTA_CATALOGUE"

TASK_KINDS = ("competency", "review", "final_drive")
SERVICE_CATEGORIES = ("lesson", "review", "final_drive", "coaching")
ELIGIBILITY_VALUES = (None, "review_1", "review_2", "final_drive")

EXPECTED_COMPETENCIES = 23
EXPECTED_REVIEWS = 2

_TASK_FIELDS: dict[str, type | tuple[type, ...]] = {
    "task_number": int,
    "code": str,
    "name": str,
    "kind": str,
    "stage": int,
    "description": str,
    "prerequisites": list,
    "covers": list,
    "sort_order": int,
    "is_review": bool,
    "is_final_drive": bool,
}

_RULE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "min_hours_between_review_and_tasks": (int, float),
    "final_drive_notice_business_days": int,
    "min_lesson_minutes": int,
    "teach_and_assess_same_lesson": bool,
}

_SERVICE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "slug": str,
    "name": str,
    "description": str,
    "duration_minutes": int,
    "price_cents": int,
    "category": str,
    "requires_eligibility": (str, type(None)),
    "is_active": bool,
    "sort_order": int,
    "buffer_minutes": int,
}


# ---------------------------------------------------------------------------
# helpers


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise ValueError(f"{what} file {path} cannot be read: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{what} file {path} is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        ) from exc


def _type_ok(value: Any, expected: type | tuple[type, ...]) -> bool:
    # bool is a subclass of int: True must not pass as a task number or price.
    expected_types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in expected_types:
        return False
    return isinstance(value, expected_types)


def _type_name(expected: type | tuple[type, ...]) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    names = {int: "integer", float: "number", str: "string", bool: "true/false",
             list: "list", dict: "object", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check_fields(
    record: Any,
    fields: dict[str, type | tuple[type, ...]],
    where: str,
    errors: list[str],
) -> bool:
    if not isinstance(record, dict):
        errors.append(f"{where}: must be a JSON object, got {type(record).__name__}")
        return False
    ok = True
    for name, expected in fields.items():
        if name not in record:
            errors.append(f"{where}: missing field '{name}'")
            ok = False
        elif not _type_ok(record[name], expected):
            errors.append(
                f"{where}: field '{name}' must be {_type_name(expected)}, "
                f"got {record[name]!r}"
            )
            ok = False
    return ok


def _raise_if(errors: list[str], what: str, path: Path) -> None:
    if errors:
        lines = "\n  - ".join(errors)
        raise ValueError(f"{what} file {path} is invalid:\n  - {lines}")


# ---------------------------------------------------------------------------
# CBT&A catalogue


def _catalogue_path(path: str | os.PathLike[str] | None) -> Path:
    if path is not None:
        return Path(path)
    env = os.environ.get(CATALOGUE_ENV_VAR, "").strip()
    if env:
        return Path(env)
    return DEFAULT_CATALOGUE_PATH


def _find_cycle(graph: dict[int, list[int]]) -> list[int] | None:
    """Return one prerequisite cycle as [a, b, ..., a], or None."""
    white, grey, black = 0, 1, 2
    colour = {node: white for node in graph}
    for root in sorted(graph):
        if colour[root] != white:
            continue
        colour[root] = grey
        stack: list[tuple[int, int]] = [(root, 0)]
        path = [root]
        while stack:
            node, index = stack[-1]
            children = graph[node]
            if index < len(children):
                stack[-1] = (node, index + 1)
                child = children[index]
                if colour[child] == grey:
                    return path[path.index(child):] + [child]
                if colour[child] == white:
                    colour[child] = grey
                    stack.append((child, 0))
                    path.append(child)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return None


def _ancestors(graph: dict[int, list[int]], start: int) -> set[int]:
    """All tasks reachable through prerequisites from ``start`` (excluding it)."""
    seen: set[int] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def _validate_catalogue(data: Any, path: Path) -> dict[str, Any]:
    what = "CBT&A catalogue"
    errors: list[str] = []
    if not isinstance(data, dict):
        raise ValueError(f"{what} file {path} is invalid: the top level must be a JSON object")

    for key, expected in (("version", str), ("source_note", str), ("rules", dict), ("tasks", list)):
        if key not in data:
            errors.append(f"missing top-level field '{key}'")
        elif not _type_ok(data[key], expected):
            errors.append(f"top-level field '{key}' must be {_type_name(expected)}")
    _raise_if(errors, what, path)

    rules = data["rules"]
    if _check_fields(rules, _RULE_FIELDS, "rules", errors):
        if rules["min_hours_between_review_and_tasks"] < 0:
            errors.append("rules: 'min_hours_between_review_and_tasks' must not be negative")
        if rules["final_drive_notice_business_days"] < 0:
            errors.append("rules: 'final_drive_notice_business_days' must not be negative")
        if rules["min_lesson_minutes"] <= 0:
            errors.append("rules: 'min_lesson_minutes' must be positive")

    tasks: list[dict[str, Any]] = []
    for position, task in enumerate(data["tasks"]):
        label = task.get("code") if isinstance(task, dict) else None
        where = f"task #{position + 1}" + (f" ({label})" if isinstance(label, str) else "")
        if _check_fields(task, _TASK_FIELDS, where, errors):
            tasks.append(task)
    _raise_if(errors, what, path)

    by_number: dict[int, dict[str, Any]] = {}
    codes: dict[str, int] = {}
    sort_orders: dict[int, int] = {}
    for task in tasks:
        number, code = task["task_number"], task["code"]
        where = f"task {number} ({code})"
        if number in by_number:
            errors.append(f"{where}: task_number {number} is used more than once")
        by_number[number] = task
        if code in codes:
            errors.append(f"{where}: code '{code}' is also used by task {codes[code]}")
        codes[code] = number
        if task["sort_order"] in sort_orders:
            errors.append(
                f"{where}: sort_order {task['sort_order']} is also used by task "
                f"{sort_orders[task['sort_order']]}"
            )
        sort_orders[task["sort_order"]] = number
        if not code.strip() or not task["name"].strip() or not task["description"].strip():
            errors.append(f"{where}: code, name and description must not be empty")
        if task["kind"] not in TASK_KINDS:
            errors.append(f"{where}: kind must be one of {', '.join(TASK_KINDS)}, got {task['kind']!r}")
        if task["stage"] not in (1, 2, 3):
            errors.append(f"{where}: stage must be 1, 2 or 3, got {task['stage']}")
        if task["is_review"] != (task["kind"] == "review"):
            errors.append(f"{where}: is_review must be true exactly when kind is 'review'")
        if task["is_final_drive"] != (task["kind"] == "final_drive"):
            errors.append(f"{where}: is_final_drive must be true exactly when kind is 'final_drive'")
        for field in ("prerequisites", "covers"):
            values = task[field]
            if not all(_type_ok(v, int) for v in values):
                errors.append(f"{where}: {field} must be a list of task numbers (integers)")
            elif len(set(values)) != len(values):
                errors.append(f"{where}: {field} lists the same task more than once")
    _raise_if(errors, what, path)

    reviews = [t for t in tasks if t["kind"] == "review"]
    competencies = [t for t in tasks if t["kind"] != "review"]
    finals = [t for t in tasks if t["kind"] == "final_drive"]
    numbers = sorted(t["task_number"] for t in competencies)
    expected_numbers = list(range(1, EXPECTED_COMPETENCIES + 1))
    if numbers != expected_numbers:
        missing = sorted(set(expected_numbers) - set(numbers))
        extra = sorted(set(numbers) - set(expected_numbers))
        detail = []
        if missing:
            detail.append(f"missing {missing}")
        if extra:
            detail.append(f"unexpected {extra}")
        errors.append(
            f"expected exactly {EXPECTED_COMPETENCIES} competencies numbered 1..{EXPECTED_COMPETENCIES}, "
            f"found {len(competencies)} ({'; '.join(detail)})"
        )
    if len(reviews) != EXPECTED_REVIEWS:
        errors.append(f"expected exactly {EXPECTED_REVIEWS} reviews, found {len(reviews)}")
    if len(finals) != 1:
        errors.append(f"expected exactly 1 task of kind 'final_drive', found {len(finals)}")

    graph: dict[int, list[int]] = {}
    for task in tasks:
        number = task["task_number"]
        where = f"task {number} ({task['code']})"
        graph[number] = [p for p in task["prerequisites"] if p in by_number]
        for prereq in task["prerequisites"]:
            if prereq == number:
                errors.append(f"{where}: lists itself as a prerequisite")
            elif prereq not in by_number:
                errors.append(f"{where}: prerequisite {prereq} does not exist in the catalogue")
        if task["kind"] == "review":
            if not task["covers"]:
                errors.append(f"{where}: a review must list the tasks it covers in 'covers'")
            for covered in task["covers"]:
                target = by_number.get(covered)
                if target is None:
                    errors.append(f"{where}: covers task {covered}, which does not exist in the catalogue")
                elif target["kind"] != "competency":
                    errors.append(f"{where}: covers task {covered}, which is a {target['kind']}, not a competency")
        elif task["covers"]:
            errors.append(f"{where}: only reviews may have 'covers' (kind is {task['kind']!r})")
    _raise_if(errors, what, path)

    cycle = _find_cycle(graph)
    if cycle is not None:
        chain = " -> ".join(by_number[n]["code"] for n in cycle)
        errors.append(f"prerequisites form a cycle: {chain} (each task requires the next)")
    _raise_if(errors, what, path)

    # A review must come after everything it covers, and the final drive after
    # everything else, or eligibility checks would let a learner skip ahead.
    for task in reviews:
        missing = sorted(set(task["covers"]) - _ancestors(graph, task["task_number"]))
        if missing:
            errors.append(
                f"task {task['task_number']} ({task['code']}): covers tasks {missing} "
                "but does not require them (directly or through other prerequisites)"
            )
    for task in finals:
        others = set(by_number) - {task["task_number"]}
        missing = sorted(others - _ancestors(graph, task["task_number"]))
        if missing:
            errors.append(
                f"task {task['task_number']} ({task['code']}): the final drive must require "
                f"every other task, but does not require {missing}"
            )
    _raise_if(errors, what, path)

    result = dict(data)
    result["tasks"] = sorted(tasks, key=lambda t: t["sort_order"])
    return result


def load_cbta_catalogue(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Load and validate the ACT CBT&A catalogue.

    The file is ``path`` if given, else the file named by the
    ``NEXDRIVE_CBTA_CATALOGUE`` environment variable, else the bundled
    ``cbta_catalogue.json``. Returns the parsed document with ``tasks`` sorted
    by ``sort_order``. Raises ``ValueError`` describing every problem found
    when the file is missing, malformed or inconsistent (wrong number of
    competencies or reviews, unknown prerequisites, prerequisite cycles,
    ``covers`` on a non-review, ...).
    """
    resolved = _catalogue_path(path)
    data = _read_json(resolved, "CBT&A catalogue")
    return _validate_catalogue(data, resolved)


# ---------------------------------------------------------------------------
# default services


def _validate_services(data: Any, path: Path) -> list[dict[str, Any]]:
    what = "Default services"
    if isinstance(data, dict):
        if "services" not in data:
            raise ValueError(f"{what} file {path} is invalid: missing top-level field 'services'")
        services = data["services"]
    else:
        services = data
    if not isinstance(services, list):
        raise ValueError(f"{what} file {path} is invalid: 'services' must be a list")

    errors: list[str] = []
    valid: list[dict[str, Any]] = []
    for position, service in enumerate(services):
        label = service.get("slug") if isinstance(service, dict) else None
        where = f"service #{position + 1}" + (f" ({label})" if isinstance(label, str) else "")
        if _check_fields(service, _SERVICE_FIELDS, where, errors):
            valid.append(service)
    _raise_if(errors, what, path)

    slugs: set[str] = set()
    sort_orders: set[int] = set()
    for service in valid:
        where = f"service '{service['slug']}'"
        slug = service["slug"]
        if not slug or slug != slug.strip().lower() or " " in slug:
            errors.append(f"{where}: slug must be lower-case with no spaces")
        if slug in slugs:
            errors.append(f"{where}: slug is used more than once")
        slugs.add(slug)
        if service["sort_order"] in sort_orders:
            errors.append(f"{where}: sort_order {service['sort_order']} is used more than once")
        sort_orders.add(service["sort_order"])
        if not service["name"].strip():
            errors.append(f"{where}: name must not be empty")
        if service["duration_minutes"] <= 0:
            errors.append(f"{where}: duration_minutes must be positive")
        if service["price_cents"] <= 0:
            errors.append(f"{where}: price_cents must be a positive number of cents")
        if service["buffer_minutes"] < 0:
            errors.append(f"{where}: buffer_minutes must not be negative")
        if service["category"] not in SERVICE_CATEGORIES:
            errors.append(
                f"{where}: category must be one of {', '.join(SERVICE_CATEGORIES)}, "
                f"got {service['category']!r}"
            )
        if service["requires_eligibility"] not in ELIGIBILITY_VALUES:
            allowed = ", ".join(str(v) if v else "null" for v in ELIGIBILITY_VALUES)
            errors.append(
                f"{where}: requires_eligibility must be one of {allowed}, "
                f"got {service['requires_eligibility']!r}"
            )
    _raise_if(errors, what, path)
    return sorted(valid, key=lambda s: s["sort_order"])


def load_default_services(path: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Load and validate the default services, sorted by ``sort_order``.

    Accepts either ``{"services": [...]}`` (the bundled format) or a bare list.
    Raises ``ValueError`` when the file is missing, malformed or inconsistent.
    """
    resolved = Path(path) if path is not None else DEFAULT_SERVICES_PATH
    data = _read_json(resolved, "Default services")
    return _validate_services(data, resolved)
