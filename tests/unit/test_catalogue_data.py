"""The bundled CBT&A catalogue and default services, and their loaders."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from nexdrive.data import (
    CATALOGUE_ENV_VAR,
    DEFAULT_CATALOGUE_PATH,
    DEFAULT_SERVICES_PATH,
    load_cbta_catalogue,
    load_default_services,
)

EXPECTED_NAMES = {
    1: "Controls",
    2: "Cabin drill",
    3: "Starting up",
    4: "Moving off",
    5: "Gears",
    6: "Steering",
    7: "Turns (left and right)",
    8: "Speed control",
    9: "Slowing",
    10: "Stopping",
    11: "Hill starts",
    12: "Give way",
    13: "Reversing",
    14: "Right-angle (front-on) parking",
    15: "Reverse parallel parking",
    16: "U-turns",
    17: "Turning around in the road (3-point turn)",
    18: "Lane changing, merging and entering freeways",
    19: "Overtaking",
    20: "Observation / hazard recognition",
    21: "System of vehicle control",
    22: "Vulnerable road users",
    23: "Driving on busy and unfamiliar roads (the final drive)",
}


@pytest.fixture(autouse=True)
def _no_catalogue_env(monkeypatch):
    # Tests must see the bundled file unless they set the variable themselves.
    monkeypatch.delenv(CATALOGUE_ENV_VAR, raising=False)


@pytest.fixture
def raw_catalogue() -> dict:
    return json.loads(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data, name: str = "catalogue.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _task(doc: dict, number: int) -> dict:
    return next(t for t in doc["tasks"] if t["task_number"] == number)


# ---------------------------------------------------------------------------
# the bundled catalogue


def test_bundled_catalogue_has_23_competencies_and_2_reviews():
    cat = load_cbta_catalogue()
    competencies = [t for t in cat["tasks"] if not t["is_review"]]
    reviews = [t for t in cat["tasks"] if t["is_review"]]
    assert sorted(t["task_number"] for t in competencies) == list(range(1, 24))
    assert [(t["task_number"], t["code"]) for t in reviews] == [(101, "R1"), (102, "R2")]
    assert {t["task_number"]: t["name"] for t in competencies} == EXPECTED_NAMES


def test_bundled_catalogue_codes_and_kinds():
    cat = load_cbta_catalogue()
    by_number = {t["task_number"]: t for t in cat["tasks"]}
    for number in range(1, 24):
        assert by_number[number]["code"] == f"T{number:02d}"
    finals = [t["task_number"] for t in cat["tasks"] if t["is_final_drive"]]
    assert finals == [23]
    assert by_number[23]["kind"] == "final_drive"
    assert {by_number[n]["stage"] for n in range(1, 18)} == {1}
    assert {by_number[n]["stage"] for n in range(18, 23)} == {2}
    assert by_number[23]["stage"] == 3


def test_reviews_cover_the_right_tasks():
    cat = load_cbta_catalogue()
    r1, r2 = _task(cat, 101), _task(cat, 102)
    assert r1["covers"] == list(range(1, 18))
    assert r2["covers"] == list(range(1, 23))
    assert sorted(r1["prerequisites"]) == list(range(1, 18))
    assert sorted(r2["prerequisites"]) == [18, 19, 20, 21, 22, 101]
    # only reviews have covers
    assert all(t["covers"] == [] for t in cat["tasks"] if not t["is_review"])


def test_prerequisite_ordering():
    cat = load_cbta_catalogue()
    assert sorted(_task(cat, 4)["prerequisites"]) == [1, 2, 3]
    for number in range(18, 23):
        assert 101 in _task(cat, number)["prerequisites"], number
    assert _task(cat, 23)["prerequisites"] == [102]


def test_tasks_are_returned_in_sort_order_with_reviews_in_place():
    cat = load_cbta_catalogue()
    order = [t["task_number"] for t in cat["tasks"]]
    assert order == list(range(1, 18)) + [101] + list(range(18, 23)) + [102, 23]
    sort_orders = [t["sort_order"] for t in cat["tasks"]]
    assert sort_orders == sorted(sort_orders)


def test_rules_match_design():
    rules = load_cbta_catalogue()["rules"]
    assert rules == {
        "min_hours_between_review_and_tasks": 36,
        "final_drive_notice_business_days": 2,
        "min_lesson_minutes": 45,
        "teach_and_assess_same_lesson": False,
    }


def test_catalogue_text_has_no_unverified_form_numbers():
    text = DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8")
    assert "10.044" not in text
    assert "165751" not in text
    assert "Form " not in text


def test_every_task_has_a_description():
    for task in load_cbta_catalogue()["tasks"]:
        assert len(task["description"].split()) >= 8, task["code"]


# ---------------------------------------------------------------------------
# path resolution


def test_env_var_points_at_another_file(tmp_path, monkeypatch, raw_catalogue):
    raw_catalogue["version"] = "school-edit-7"
    _task(raw_catalogue, 6)["name"] = "Steering (school wording)"
    path = _write(tmp_path, raw_catalogue)
    monkeypatch.setenv(CATALOGUE_ENV_VAR, str(path))
    cat = load_cbta_catalogue()
    assert cat["version"] == "school-edit-7"
    assert _task(cat, 6)["name"] == "Steering (school wording)"


def test_explicit_path_wins_over_env_var(tmp_path, monkeypatch, raw_catalogue):
    monkeypatch.setenv(CATALOGUE_ENV_VAR, str(tmp_path / "does-not-exist.json"))
    raw_catalogue["version"] = "explicit"
    path = _write(tmp_path, raw_catalogue)
    assert load_cbta_catalogue(path)["version"] == "explicit"


def test_env_var_to_missing_file_raises_value_error(tmp_path, monkeypatch):
    missing = tmp_path / "nope.json"
    monkeypatch.setenv(CATALOGUE_ENV_VAR, str(missing))
    with pytest.raises(ValueError, match="not found") as info:
        load_cbta_catalogue()
    assert str(missing) in str(info.value)


def test_invalid_json_raises_value_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"version": "1", "tasks": [', encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_cbta_catalogue(path)


# ---------------------------------------------------------------------------
# broken catalogues


def test_cycle_is_rejected(tmp_path, raw_catalogue):
    # 5 already needs 4; make 4 need 5 as well.
    _task(raw_catalogue, 4)["prerequisites"].append(5)
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match="cycle") as info:
        load_cbta_catalogue(path)
    message = str(info.value)
    assert "T04" in message and "T05" in message


def test_longer_cycle_is_rejected(tmp_path, raw_catalogue):
    # 10 -> 9 -> 8 -> 5 already; close the loop 5 -> 10.
    _task(raw_catalogue, 5)["prerequisites"].append(10)
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match=r"cycle: .*T10"):
        load_cbta_catalogue(path)


def test_missing_prerequisite_is_rejected(tmp_path, raw_catalogue):
    _task(raw_catalogue, 12)["prerequisites"].append(99)
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match=r"task 12 \(T12\): prerequisite 99 does not exist"):
        load_cbta_catalogue(path)


def test_self_prerequisite_is_rejected(tmp_path, raw_catalogue):
    _task(raw_catalogue, 8)["prerequisites"].append(8)
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match="lists itself as a prerequisite"):
        load_cbta_catalogue(path)


def test_22_competencies_is_rejected(tmp_path, raw_catalogue):
    # Drop task 21 and every reference to it so only the count is wrong.
    raw_catalogue["tasks"] = [t for t in raw_catalogue["tasks"] if t["task_number"] != 21]
    for task in raw_catalogue["tasks"]:
        task["prerequisites"] = [p for p in task["prerequisites"] if p != 21]
        task["covers"] = [c for c in task["covers"] if c != 21]
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match=r"exactly 23 competencies.*found 22.*missing \[21\]"):
        load_cbta_catalogue(path)


def test_one_review_is_rejected(tmp_path, raw_catalogue):
    raw_catalogue["tasks"] = [t for t in raw_catalogue["tasks"] if t["task_number"] != 102]
    _task(raw_catalogue, 23)["prerequisites"] = list(range(1, 23)) + [101]
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match="exactly 2 reviews, found 1"):
        load_cbta_catalogue(path)


def test_covers_on_a_competency_is_rejected(tmp_path, raw_catalogue):
    _task(raw_catalogue, 17)["covers"] = [13, 16]
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match=r"task 17 \(T17\): only reviews may have 'covers'"):
        load_cbta_catalogue(path)


def test_review_covering_a_task_it_does_not_require_is_rejected(tmp_path, raw_catalogue):
    _task(raw_catalogue, 101)["prerequisites"].remove(15)
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match=r"R1.*covers tasks \[15\] but does not require them"):
        load_cbta_catalogue(path)


def test_duplicate_task_number_is_rejected(tmp_path, raw_catalogue):
    extra = copy.deepcopy(_task(raw_catalogue, 3))
    extra["code"] = "T03b"
    extra["sort_order"] = 999
    raw_catalogue["tasks"].append(extra)
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match="task_number 3 is used more than once"):
        load_cbta_catalogue(path)


def test_missing_field_and_wrong_type_are_reported_together(tmp_path, raw_catalogue):
    del _task(raw_catalogue, 2)["description"]
    _task(raw_catalogue, 9)["stage"] = "one"
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError) as info:
        load_cbta_catalogue(path)
    message = str(info.value)
    assert "(T02): missing field 'description'" in message
    assert "(T09): field 'stage' must be integer" in message


def test_is_review_flag_must_match_kind(tmp_path, raw_catalogue):
    _task(raw_catalogue, 102)["is_review"] = False
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match="is_review must be true exactly when kind is 'review'"):
        load_cbta_catalogue(path)


def test_missing_rule_is_rejected(tmp_path, raw_catalogue):
    del raw_catalogue["rules"]["min_lesson_minutes"]
    path = _write(tmp_path, raw_catalogue)
    with pytest.raises(ValueError, match="rules: missing field 'min_lesson_minutes'"):
        load_cbta_catalogue(path)


# ---------------------------------------------------------------------------
# default services


def test_default_services_load_in_sort_order():
    services = load_default_services()
    slugs = [s["slug"] for s in services]
    assert slugs[0] == "standard-60"
    assert len(set(slugs)) == len(slugs)
    assert [s["sort_order"] for s in services] == sorted(s["sort_order"] for s in services)


def test_no_keys2drive_service():
    raw = DEFAULT_SERVICES_PATH.read_text(encoding="utf-8").lower()
    assert "keys2drive" not in raw
    assert "keys 2 drive" not in raw
    for service in load_default_services():
        assert "keys" not in service["slug"]


def test_prices_are_positive_integer_cents():
    for service in load_default_services():
        price = service["price_cents"]
        assert type(price) is int and price > 0, service["slug"]


def test_durations_meet_the_minimum_lesson_length():
    minimum = load_cbta_catalogue()["rules"]["min_lesson_minutes"]
    for service in load_default_services():
        assert type(service["duration_minutes"]) is int
        assert service["duration_minutes"] >= minimum, service["slug"]
        assert service["buffer_minutes"] >= 0


def test_assessment_services_require_matching_eligibility():
    by_category: dict[str, list[dict]] = {}
    for service in load_default_services():
        by_category.setdefault(service["category"], []).append(service)
    assert {s["requires_eligibility"] for s in by_category["review"]} == {"review_1", "review_2"}
    assert [s["requires_eligibility"] for s in by_category["final_drive"]] == ["final_drive"]
    assert all(s["requires_eligibility"] is None for s in by_category["lesson"])
    assert by_category["coaching"], "expected a parent/supervisor coaching service"


def test_services_loader_rejects_zero_price_unknown_category_and_bad_eligibility(tmp_path):
    services = load_default_services()
    services[0]["price_cents"] = 0
    services[1]["category"] = "special"
    services[2]["requires_eligibility"] = "review_3"
    path = _write(tmp_path, {"services": services}, "services.json")
    with pytest.raises(ValueError) as info:
        load_default_services(path)
    message = str(info.value)
    assert "'standard-60': price_cents must be a positive number of cents" in message
    assert "category must be one of" in message and "'special'" in message
    assert "requires_eligibility must be one of" in message and "'review_3'" in message


def test_services_loader_rejects_non_integer_price(tmp_path):
    services = load_default_services()
    services[0]["price_cents"] = 85.0
    path = _write(tmp_path, services, "services.json")
    with pytest.raises(ValueError, match=r"\(standard-60\): field 'price_cents' must be integer"):
        load_default_services(path)


def test_services_loader_rejects_duplicate_slug(tmp_path):
    services = load_default_services()
    services[1]["slug"] = services[0]["slug"]
    path = _write(tmp_path, services, "services.json")
    with pytest.raises(ValueError, match="slug is used more than once"):
        load_default_services(path)
