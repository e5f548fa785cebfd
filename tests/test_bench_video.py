"""Smoke test of ``smartseoul bench video --quick``: it runs and reports sane figures (never a speed:
the machine may be busy)."""

from __future__ import annotations

from tests.test_bench import figures_of

VIDEO_KEYS = (
    "cpu_ms_moving_analysis",
    "cpu_ms_idle_analysis",
    "cpu_ms_naive_frame",
    "cpu_ms_receive_frame",
    "cpu_cameras_per_core",
    "cpu_naive_cameras_per_core",
    "ratio_cpu_cameras_over_naive",
    "cameras_per_core",
    "frames_decoded_per_s",
    "detector_calls_per_s",
    "analysed_per_s",
    "moving_fps_min",
    "longest_gap_s",
    "naive_frames_per_s",
    "naive_cameras_per_core",
    "precision",
    "recall",
    "precision_tracks",
    "recall_tracks",
    "precision_full_frame",
    "recall_full_frame",
    "annotated_people",
    "false_events_per_camera_hour",
)


def test_video_figures() -> None:
    figures = figures_of("video")
    assert set(VIDEO_KEYS) <= set(figures)
    assert figures["analysed_per_s"] > 0
    assert (
        figures["cpu_ms_naive_frame"] > figures["cpu_ms_idle_analysis"] > 0
    )  # no detector on a still street
    assert figures["cpu_cameras_per_core"] > figures["cpu_naive_cameras_per_core"] > 0
    assert figures["naive_frames_per_s"] > 0
    assert figures["frames_decoded_per_s"] >= figures["detector_calls_per_s"]
    assert figures["cameras_per_core"] in (0, 2)  # quick mode tries 2 cameras
    assert 0 < figures["precision_full_frame"] <= 1
    assert 0 < figures["recall_full_frame"] <= 1
    assert 0 <= figures["precision"] <= 1
    assert figures["annotated_people"] == 8  # the first annotated frame in quick mode
    assert figures["false_events_per_camera_hour"] >= 0
