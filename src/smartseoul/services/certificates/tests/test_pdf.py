"""The document's QR code leads to its verify page: drawn exactly as on the PDF, then read back
with OpenCV's QR detector (the squares are rasterised in PDF coordinates, y upwards)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from smartseoul.services.certificates import pdf

SIZE = 110.0


class RecordingPath:
    def __init__(self) -> None:
        self.rects: list[tuple[float, float, float, float]] = []

    def rect(self, x: float, y: float, width: float, height: float) -> None:
        self.rects.append((x, y, width, height))


class RecordingCanvas:
    """What ``_qr`` calls on a reportlab canvas, recorded."""

    def __init__(self) -> None:
        self.path = RecordingPath()
        self.filled = False

    def beginPath(self) -> RecordingPath:
        return self.path

    def setFillColorRGB(self, *_: float) -> None:
        pass

    def drawPath(self, path: RecordingPath, fill: int = 0, stroke: int = 1) -> None:
        self.filled = bool(fill)


def rasterise(rects: list[tuple[float, float, float, float]], x0: float, y0: float, scale: int = 4) -> Any:
    side = int(SIZE * scale) + 40
    image = np.full((side, side), 255, dtype=np.uint8)
    for x, y, width, height in rects:
        left, top = round((x - x0) * scale) + 20, round((y0 + SIZE - y - height) * scale) + 20
        image[top : top + round(height * scale), left : left + round(width * scale)] = 0
    return image


def test_the_qr_code_on_the_document_reads_as_its_verify_url() -> None:
    url = "https://smart.seoul.go.kr/verify/SS-2026-1234-5678-9012"
    canvas = RecordingCanvas()
    pdf._qr(canvas, url, 400.0, 60.0, SIZE)  # type: ignore[arg-type]
    assert canvas.filled
    assert canvas.path.rects
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(rasterise(canvas.path.rects, 400.0, 60.0))
    assert decoded == url
