"""The ONNX Runtime detector plug-in: refused clearly without a model, providers chosen per machine.

No ONNX person model is shipped and the ``onnx`` package is not installed, so the test model is a
tiny graph written here as protobuf bytes (a Constant node giving fixed detection rows): it checks
how the plug-in feeds ONNX Runtime and reads the rows back, not what a real model sees.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from smartseoul.safety.monitoring.detectors import (
    DetectorUnavailable,
    OnnxDetector,
    make_detector,
    onnx_providers,
)
from smartseoul.safety.monitoring.engine import detector_refusal
from smartseoul.safety.monitoring.worker import WorkerConfig


def _varint(n: int) -> bytes:
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([low])
        out += bytes([low | 0x80])


def _field(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _value_info(name: str, dims: list[int]) -> bytes:
    shape = b"".join(_field(1, _int(1, d)) for d in dims)
    return _field(1, name) + _field(2, _field(1, _int(1, 1) + _field(2, shape)))


def tiny_model(rows: list[list[float]], size: int = 64) -> bytes:
    """ONNX ModelProto bytes: input ``images`` [1, 3, size, size], output ``dets`` = the rows."""
    values = struct.pack(f"<{6 * len(rows)}f", *(v for row in rows for v in row))
    dims = [1, len(rows), 6]
    constant = b"".join(_int(1, d) for d in dims) + _int(2, 1) + _field(4, values) + _field(8, "c")
    node = (
        _field(2, "dets")
        + _field(3, "rows")
        + _field(4, "Constant")
        + _field(5, _field(1, "value") + _field(5, constant) + _int(20, 4))
    )
    graph = (
        _field(1, node)
        + _field(2, "tiny")
        + _field(11, _value_info("images", [1, 3, size, size]))
        + _field(12, _value_info("dets", dims))
    )
    return (
        _int(1, 7) + _field(2, "smartseoul-test") + _field(7, graph) + _field(8, _field(1, "") + _int(2, 13))
    )


def test_a_model_is_run_and_its_person_and_vehicle_rows_are_read_back_into_the_picture(
    tmp_path: Path,
) -> None:
    model = tmp_path / "tiny.onnx"
    model.write_bytes(
        tiny_model(
            [
                [0.1, 0.2, 0.3, 0.6, 0.9, 0],  # normalised, a person
                [10, 10, 40, 60, 0.8, 0],  # pixels of the 64 x 64 input, a person
                [0.5, 0.5, 0.7, 0.9, 0.95, 2],  # a car (COCO class 2)
                [0.1, 0.1, 0.2, 0.2, 0.95, 1],  # a bicycle: neither person nor vehicle
            ]
        )
    )
    detector = make_detector("onnx", str(model), "CUDAExecutionProvider,CPUExecutionProvider")
    assert isinstance(detector, OnnxDetector)
    assert detector.providers[-1] == "CPUExecutionProvider"
    assert (detector.width, detector.height) == (64, 64)
    picture = np.zeros((100, 200, 3), np.uint8)  # 200 wide, 100 high
    boxes = [
        (d.label, round(d.x1, 2), round(d.y1, 2), round(d.x2, 2), round(d.y2, 2))
        for d in detector.detect(picture, 0.5)
    ]
    assert boxes == [
        ("person", 20.0, 20.0, 60.0, 60.0),
        ("person", 31.25, 15.62, 125.0, 93.75),
        ("car", 100.0, 50.0, 140.0, 90.0),
    ]
    assert [(d.label, round(d.score, 2)) for d in detector.detect(picture, 0.85)] == [
        ("person", 0.9),
        ("car", 0.95),
    ]
    assert "car" in detector.labels  # so a stopped-vehicle rule counts it as a vehicle


def test_missing_model_is_refused_naming_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "person.onnx"
    with pytest.raises(DetectorUnavailable, match=r"monitoring_onnx_model: .*person.onnx does not exist"):
        OnnxDetector(missing)
    with pytest.raises(DetectorUnavailable, match="no model is set"):
        make_detector("onnx")


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf at all")
    with pytest.raises(DetectorUnavailable, match="is not a usable ONNX model"):
        OnnxDetector(junk)


def test_gpu_provider_is_used_where_there_is_one_and_skipped_elsewhere() -> None:
    wanted = "CUDAExecutionProvider, CPUExecutionProvider"
    gpu_machine = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert onnx_providers(wanted, gpu_machine) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert onnx_providers(wanted, ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert onnx_providers("CPUExecutionProvider") == ["CPUExecutionProvider"]  # this machine


def test_unknown_or_unavailable_providers_are_refused() -> None:
    with pytest.raises(DetectorUnavailable, match="unknown execution provider CUDAProvider"):
        onnx_providers("CUDAProvider,CPUExecutionProvider")
    with pytest.raises(DetectorUnavailable, match="none of CUDAExecutionProvider is available"):
        onnx_providers("CUDAExecutionProvider", ["CPUExecutionProvider"])


def test_engine_refuses_before_starting_workers(tmp_path: Path) -> None:
    assert detector_refusal(WorkerConfig(detector="hog")) == ""
    refusal = detector_refusal(WorkerConfig(detector="onnx", onnx_model=str(tmp_path / "none.onnx")))
    assert refusal.startswith("monitoring_onnx_model:")
