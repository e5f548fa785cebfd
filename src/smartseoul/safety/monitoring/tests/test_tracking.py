"""The tracker keeps ids through motion and weak detections; the scheduler's budget and share;
motion regions with masks; the threshold tuned from verdicts."""

from __future__ import annotations

import numpy as np

from smartseoul.safety.monitoring.detectors import Detection, iou, nms
from smartseoul.safety.monitoring.motion import MotionDetector, crop_for
from smartseoul.safety.monitoring.scheduler import Scheduler
from smartseoul.safety.monitoring.service import tuned_threshold
from smartseoul.safety.monitoring.tracker import Tracker


def _box(x: float, score: float = 0.9) -> Detection:
    return Detection(x, 0.4, x + 0.1, 0.8, score)


def test_two_walkers_keep_their_ids_and_a_stray_box_is_never_confirmed() -> None:
    tracker = Tracker(high=0.5, low=0.25)
    ids: list[list[int]] = []
    for step in range(10):
        detections = [_box(0.1 + 0.02 * step), _box(0.7 - 0.02 * step)]
        if step == 4:
            detections.append(_box(0.45, 0.9))  # one frame only
        if step == 6:
            detections[0] = _box(0.1 + 0.02 * step, 0.3)  # half hidden: weak, keeps the track
        ids.append(sorted(t.track_id for t in tracker.update(detections, step * 0.2)))
    assert ids[0] == []  # not confirmed on the first sight
    assert all(frame == [1, 2] for frame in ids[1:])


def test_a_track_not_seen_for_max_age_is_dropped_and_weak_boxes_start_nothing() -> None:
    tracker = Tracker(max_age_s=1.0)
    tracker.update([_box(0.1)], 0.0)
    tracker.update([_box(0.1)], 0.2)
    assert [t.track_id for t in tracker.update([], 1.0)] == [1]
    assert tracker.update([], 1.5) == []
    assert tracker.update([_box(0.5, 0.3)], 1.6) == []
    assert tracker.tracks == []


def test_iou_and_nms() -> None:
    assert iou((0, 0, 2, 2), (1, 1, 3, 3)) == 1 / 7
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    kept = nms([Detection(0, 0, 10, 10, 0.6), Detection(1, 1, 10, 10, 0.9), Detection(20, 20, 30, 30, 0.5)])
    assert [d.score for d in kept] == [0.9, 0.5]


def test_moving_cameras_get_the_detect_rate_and_every_camera_is_seen_within_the_interval() -> None:
    """80 cameras, 2 moving, a budget of 20 analyses per second: the movers get 5 fps and every
    idle camera is analysed within 10 s."""
    scheduler = Scheduler(detect_fps=5.0, idle_interval_s=2.0, max_interval_s=10.0)
    for camera in range(80):
        scheduler.add(camera, 0.0)
    counts = dict.fromkeys(range(80), 0)
    longest_gap = dict.fromkeys(range(80), 0.0)
    last = dict.fromkeys(range(80), 0.0)
    now = 0.0
    while now < 60.0:
        camera = scheduler.next(now)
        if camera is not None:
            counts[camera] += 1
            longest_gap[camera] = max(longest_gap[camera], now - last[camera])
            last[camera] = now
            scheduler.done(camera, now, motion=camera < 2)
        now += 0.05  # 20 analyses per second at most
    assert counts[0] >= 0.95 * 5 * 50
    assert counts[1] >= 0.95 * 5 * 50
    assert max(longest_gap[c] for c in range(2, 80)) <= 10.0
    assert scheduler.share(now) == 1.0


def test_the_share_counts_cameras_not_analysed_within_the_interval_and_corrupt_frames_do_not_count() -> None:
    scheduler = Scheduler(max_interval_s=10.0)
    scheduler.add(1, 0.0)
    scheduler.add(2, 0.0)
    scheduler.done(1, 1.0, motion=False)
    scheduler.done(2, 1.0, motion=False, analysed=False)  # its frame was corrupt
    assert scheduler.monitored(5.0) == [1]
    assert scheduler.share(5.0) == 0.5
    assert scheduler.share(12.0) == 0.0


def _frame(x: int | None, clock: int = 0) -> np.ndarray:
    image = np.full((180, 320, 3), 90, np.uint8)
    image[150:170, 10:60] = 40 + (clock % 2) * 150  # a blinking "clock" in a corner
    if x is not None:
        image[60:140, x : x + 30] = 230
    return image


def test_motion_finds_what_moved_and_ignores_a_masked_corner() -> None:
    motion = MotionDetector(masks=[[(0.0, 0.8), (0.25, 0.8), (0.25, 1.0), (0.0, 1.0)]])
    assert motion.regions(_frame(None)) == []  # the first frame becomes the background
    assert motion.regions(_frame(None, clock=1)) == []  # the clock blinks in the masked corner
    regions = motion.regions(_frame(200))
    assert len(regions) == 1
    x1, y1, x2, y2 = regions[0]
    assert 185 <= x1 <= 205
    assert 225 <= x2 <= 245
    assert 50 <= y1 <= 65
    assert 135 <= y2 <= 150
    unmasked = MotionDetector()
    unmasked.regions(_frame(None))
    assert unmasked.regions(_frame(None, clock=1)) != []


def test_the_detector_crop_covers_every_region_and_stays_in_the_picture() -> None:
    assert crop_for([], 320, 180) is None
    x1, y1, x2, y2 = crop_for([(10, 10, 40, 90), (250, 100, 300, 170)], 320, 180) or (0, 0, 0, 0)
    assert x1 <= 10
    assert y1 <= 10
    assert x2 >= 300
    assert y2 >= 170
    assert x1 >= 0
    assert y1 >= 0
    assert x2 <= 320
    assert y2 <= 180


def test_false_positive_feedback_raises_the_threshold_but_not_above_real_detections() -> None:
    assert tuned_threshold([], [], 0.5) == 0.5
    assert tuned_threshold([0.55, 0.6], [0.8, 0.9], 0.5) == 0.61
    # raising above 0.7 would lose two real events (cost 4) to drop one false one (cost 1)
    assert tuned_threshold([0.55, 0.75], [0.7, 0.72, 0.9], 0.5) == 0.56
    assert tuned_threshold([0.95], [], 0.5) == 0.5  # the cap (0.9) would not drop it: left alone
    assert tuned_threshold([0.89], [], 0.5) == 0.9
