"""Zone rules on hand-made tracks: each kind fires when it should, once, and not otherwise; bad
zones and rules are refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartseoul.safety.monitoring.pipeline import labels_seen
from smartseoul.safety.monitoring.rules import (
    Rule,
    RuleError,
    RuleState,
    check_rule,
    check_zone,
    evaluate,
    in_window,
    inside,
)
from smartseoul.safety.monitoring.tracker import Track

SQUARE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
LOWER = ((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0))
NOON_SEOUL = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 12:00 KST
NIGHT_SEOUL = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)  # 23:30 KST


def _track(
    track_id: int,
    box: tuple[float, float, float, float],
    t: float = 0.0,
    score: float = 0.8,
    label: str = "person",
) -> Track:
    track = Track(track_id, box, score, label, t, t, hits=3)
    track.history.append((t, *track.foot, track.height))
    return track


def _move(track: Track, box: tuple[float, float, float, float], t: float) -> None:
    track.box, track.last_seen = box, t
    track.history.append((t, *track.foot, track.height))


@pytest.mark.parametrize(
    ("kind", "zone", "params", "start", "end", "field"),
    [
        ("teleport", SQUARE, {}, None, None, "kind"),
        ("loitering", [[0, 0], [1, 1]], {}, None, None, "zone"),
        ("loitering", [[0, 0], [1.5, 0], [1, 1]], {}, None, None, "zone[1]"),
        ("loitering", [[0, 0], "x", [1, 1]], {}, None, None, "zone[1]"),
        ("loitering", [[0, 0], [0.5, 0.5], [1, 1]], {}, None, None, "zone"),  # no area
        ("loitering", SQUARE, {"dwell_s": -1}, None, None, "params.dwell_s"),
        ("loitering", SQUARE, {"dwell_s": True}, None, None, "params.dwell_s"),
        ("loitering", SQUARE, {"speed": 2}, None, None, "params.speed"),
        ("crowding", SQUARE, {"max_people": 0}, None, None, "params.max_people"),
        ("intrusion", SQUARE, {}, "25:00", "06:00", "start"),
        ("intrusion", SQUARE, {}, "22:00", None, "end"),
        ("vehicle_stopped", SQUARE, {}, None, None, "kind"),  # told only persons can be seen
        ("vehicle_stopped", SQUARE, {"min_area": 0.2, "max_area": 0.1}, None, None, "params.max_area"),
        ("vehicle_stopped", SQUARE, {"min_ratio": 3, "max_ratio": 2}, None, None, "params.max_ratio"),
        ("vehicle_stopped", SQUARE, {"min_area": 0}, None, None, "params.min_area"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    kind: str, zone: object, params: object, start: str | None, end: str | None, field: str
) -> None:
    labels = ("person",) if field == "kind" else labels_seen("ssdlite")
    with pytest.raises(RuleError) as refused:
        check_rule(kind, zone, params, start, end, labels)
    assert refused.value.field == field


def test_a_good_rule_gets_its_defaults_and_a_vehicle_rule_is_taken_with_the_shipped_detectors() -> None:
    kind, zone, params, start, end = check_rule("loitering", [[0, 0.5], [1, 0.5], [1, 1], [0, 1]], None)
    assert (kind, zone, params, start, end) == ("loitering", LOWER, {"dwell_s": 30.0}, None, None)
    defaults = {"stopped_s": 60.0, "min_area": 0.003, "max_area": 0.3, "min_ratio": 0.8, "max_ratio": 5.0}
    for detector in ("ssdlite", "hog", "onnx"):  # every pipeline finds stopped objects
        assert check_rule("vehicle_stopped", SQUARE, {}, detector_labels=labels_seen(detector))[2] == defaults
    assert (
        check_rule("vehicle_stopped", SQUARE, {"stopped_s": 30}, detector_labels=("car",))[2]["stopped_s"]
        == 30.0
    )
    assert check_zone([[0, 0], [1, 0], [1, 1]]) == ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))


def test_inside_and_the_night_window_that_wraps_midnight() -> None:
    assert inside((0.5, 0.75), LOWER)
    assert not inside((0.5, 0.25), LOWER)
    assert in_window("22:00", "06:00", NIGHT_SEOUL)
    assert not in_window("22:00", "06:00", NOON_SEOUL)
    assert in_window("09:00", "18:00", NOON_SEOUL)
    assert in_window(None, None, NOON_SEOUL)


def test_intrusion_fires_only_inside_the_zone_at_the_set_hours_and_once_per_track() -> None:
    rule = Rule(1, "intrusion", LOWER, {}, "22:00", "06:00")
    state = RuleState()
    person = _track(7, (0.4, 0.6, 0.5, 0.9))
    passer = _track(8, (0.4, 0.1, 0.5, 0.4))  # feet above the zone
    assert evaluate([rule], [person, passer], 0.0, NOON_SEOUL, state) == []
    hits = evaluate([rule], [person, passer], 1.0, NIGHT_SEOUL, state)
    assert [(h.track_id, h.rule.kind) for h in hits] == [(7, "intrusion")]
    assert evaluate([rule], [person, passer], 2.0, NIGHT_SEOUL, state) == []


def test_loitering_fires_after_the_dwell_and_not_before() -> None:
    rule = Rule(2, "loitering", LOWER, {"dwell_s": 10.0})
    state = RuleState()
    person = _track(3, (0.4, 0.6, 0.5, 0.9))
    for t in (0.0, 5.0, 9.5):
        _move(person, person.box, t)
        assert evaluate([rule], [person], t, NOON_SEOUL, state) == []
    _move(person, person.box, 10.5)
    hits = evaluate([rule], [person], 10.5, NOON_SEOUL, state)
    assert len(hits) == 1
    assert hits[0].since == 0.0
    assert "10 s" in hits[0].detail


def test_a_stopped_vehicle_fires_after_stopped_s_only_within_its_size_and_shape_bounds() -> None:
    bounds = {"min_area": 0.003, "max_area": 0.3, "min_ratio": 0.8, "max_ratio": 5.0}
    rule = Rule(6, "vehicle_stopped", LOWER, {"stopped_s": 20.0, **bounds})
    state = RuleState()
    car = _track(7, (0.5, 0.6, 0.7, 0.75), label="vehicle_sized")  # 96 x 40 px in a 480 x 270 picture
    bus = _track(8, (0.1, 0.6, 0.4, 0.8), label="bus")
    standing = _track(9, (0.8, 0.6, 0.84, 0.85), label="vehicle_sized")  # a person's shape
    aspect = 480 / 270
    for t in (0.0, 5.0, 10.0, 19.0):
        for track in (car, bus, standing):
            _move(track, track.box, t)
        assert evaluate([rule], [car, bus, standing], t, NOON_SEOUL, state, aspect) == []
    for track in (car, bus, standing):
        _move(track, track.box, 21.0)
    hits = evaluate([rule], [car, bus, standing], 21.0, NOON_SEOUL, state, aspect)
    assert sorted((h.track_id, h.detail) for h in hits) == [
        (7, "stopped vehicle-sized object for 21 s"),
        (8, "stopped bus for 21 s"),
    ]
    assert evaluate([rule], [car, bus, standing], 23.0, NOON_SEOUL, state, aspect) == []  # once
    person = _track(10, (0.5, 0.6, 0.7, 0.75))
    assert evaluate([rule], [person], 60.0, NOON_SEOUL, RuleState(), aspect) == []  # not a vehicle


def test_crowding_fires_once_per_crowd_and_again_after_it_thinned() -> None:
    rule = Rule(3, "crowding", SQUARE, {"max_people": 2.0})
    state = RuleState()
    people = [_track(i, (0.1 * i, 0.5, 0.1 * i + 0.05, 0.8)) for i in range(1, 4)]
    assert len(evaluate([rule], people, 0.0, NOON_SEOUL, state)) == 1
    assert evaluate([rule], people, 1.0, NOON_SEOUL, state) == []
    assert evaluate([rule], people[:2], 2.0, NOON_SEOUL, state) == []
    again = evaluate([rule], people, 3.0, NOON_SEOUL, state)
    assert len(again) == 1
    assert again[0].track_id == 0
    assert "3 people" in again[0].detail


def test_running_fires_for_a_fast_track_and_not_for_a_walker() -> None:
    rule = Rule(4, "running", SQUARE, {"speed": 1.5})
    state = RuleState()
    runner, walker = _track(1, (0.0, 0.5, 0.05, 0.7)), _track(2, (0.5, 0.5, 0.55, 0.7))
    hits = []
    for step in range(1, 6):
        t = step * 0.2
        _move(runner, (0.08 * step, 0.5, 0.08 * step + 0.05, 0.7), t)  # 2 body heights per second
        _move(walker, (0.5 + 0.01 * step, 0.5, 0.55 + 0.01 * step, 0.7), t)
        hits += evaluate([rule], [runner, walker], t, NOON_SEOUL, state)
    assert [h.track_id for h in hits] == [1]


def test_a_person_lying_for_the_hold_time_is_down_and_a_wide_picture_is_not_mistaken() -> None:
    rule = Rule(5, "person_down", SQUARE, {"hold_s": 2.0})
    state = RuleState()
    person = _track(9, (0.4, 0.5, 0.5, 0.8))
    assert evaluate([rule], [person], 0.0, NOON_SEOUL, state, aspect=16 / 9) == []
    _move(person, (0.3, 0.75, 0.6, 0.85), 1.0)  # wider than tall: lying
    assert evaluate([rule], [person], 1.0, NOON_SEOUL, state, aspect=16 / 9) == []
    hits = evaluate([rule], [person], 3.1, NOON_SEOUL, state, aspect=16 / 9)
    assert [h.track_id for h in hits] == [9]
    standing = _track(10, (0.4, 0.5, 0.5, 0.8))  # 0.1 wide, 0.3 tall: upright even at 16:9
    state2 = RuleState()
    for t in (0.0, 5.0):
        assert evaluate([rule], [standing], t, NOON_SEOUL, state2, aspect=16 / 9) == []
