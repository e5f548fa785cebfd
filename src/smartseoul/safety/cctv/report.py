"""The coverage report as CSV (one row per district and neighbourhood) and as a PDF with the map.

The PDF draws the district polygons coloured by coverage with ReportLab (no tile server, no
browser): a planner can print it or attach it to a budget request.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from smartseoul.safety.cctv.coverage import METRICS, Coverage

SEOUL = ZoneInfo("Asia/Seoul")
PALETTE = ("#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
CSV_COLUMNS = (
    "level",
    "code",
    "name_ko",
    "name_en",
    "district_code",
    "population",
    "cameras",
    "area_km2",
    "covered_km2",
    "coverage_area_pct",
    "covered_population",
    "coverage_population_pct",
    "cameras_per_1000",
    "cameras_per_km2",
)
KOREAN_FONT = "HYSMyeongJo-Medium"  # a CID font every PDF reader has: Korean text without a font file


def report_csv(result: Coverage) -> bytes:
    """Districts then neighbourhoods, then the disparity figures as comment-like rows (UTF-8 BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for level, rows in (("district", result.districts), ("neighbourhood", result.neighbourhoods)):
        for row in rows:
            writer.writerow([level, *(row.get(column, "") for column in CSV_COLUMNS[1:])])
    writer.writerow([])
    writer.writerow(["disparity", "metric", "max_over_min", "gini", "max_district", "min_district"])
    for metric in METRICS:
        figures = result.disparity[metric]
        writer.writerow(
            [
                "disparity",
                metric,
                figures["ratio"],
                figures["gini"],
                (figures["max"] or {}).get("name_en", ""),
                (figures["min"] or {}).get("name_en", ""),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def breaks_of(values: list[float], classes: int = len(PALETTE)) -> list[float]:
    """Quantile class breaks (the console's legend uses the same rule)."""
    ordered = sorted(values)
    if not ordered:
        return []
    return [ordered[min(len(ordered) - 1, int(len(ordered) * k / classes))] for k in range(1, classes)]


def colour_of(value: float, breaks: list[float]) -> str:
    index = 0
    while index < len(breaks) and value > breaks[index]:
        index += 1
    return PALETTE[index]


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    return [polygon[0] for polygon in geometry["coordinates"]]


def map_drawing(geometries: dict[str, dict[str, Any]], values: dict[str, float], size: float) -> Drawing:
    """The districts as coloured polygons in a square ``size`` points wide."""
    rings = {code: _rings(g) for code, g in geometries.items()}
    xs = [p[0] for rs in rings.values() for r in rs for p in r]
    ys = [p[1] for rs in rings.values() for r in rs for p in r]
    min_x, min_y = min(xs), min(ys)
    aspect = 0.79  # cos(37.55 degrees): keeps the city's shape
    scale = size / max((max(xs) - min_x) * aspect, max(ys) - min_y)
    breaks = breaks_of(list(values.values()))
    drawing = Drawing(size, size)
    for code, shapes in rings.items():
        fill = colors.HexColor(colour_of(values.get(code, 0.0), breaks))
        for ring in shapes:
            points = [v for x, y in ring for v in ((x - min_x) * aspect * scale, (y - min_y) * scale)]
            drawing.add(
                Polygon(points, fillColor=fill, strokeColor=colors.HexColor("#1f2937"), strokeWidth=0.5)
            )
    for k, swatch in enumerate(PALETTE):
        drawing.add(Rect(4, 4 + k * 12, 10, 10, fillColor=colors.HexColor(swatch), strokeWidth=0.3))
        low = f"{breaks[k - 1]:.1f}" if k > 0 else ""
        high = f"{breaks[k]:.1f}" if k < len(breaks) else ""
        drawing.add(
            String(
                18,
                6 + k * 12,
                f"{low}–{high}" if low and high else (f"≤ {high}" if high else f"> {low}"),
                fontSize=7,
            )
        )
    return drawing


def report_pdf(
    result: Coverage, geometries: dict[str, dict[str, Any]], metric: str = "coverage_area_pct"
) -> bytes:
    """One landscape page: the map coloured by ``metric``, the disparity figures, the district table."""
    if "HYSMyeongJo-Medium" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(KOREAN_FONT))
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle("CCTV coverage and disparity")
    canvas.setFont(KOREAN_FONT, 14)
    stamp = result.computed_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M KST")
    canvas.drawString(30, height - 34, f"CCTV 감시 범위와 격차 / CCTV coverage and disparity — {stamp}")
    canvas.setFont(KOREAN_FONT, 9)
    city = result.city
    canvas.drawString(
        30,
        height - 50,
        f"cameras {city['cameras']:,} · covered {city['coverage_area_pct']:.2f}% of the area, "
        f"{city['coverage_population_pct']:.2f}% of residents · map: {metric}",
    )
    values = {d["code"]: float(d[metric] or 0.0) for d in result.districts}
    renderPDF.draw(map_drawing(geometries, values, 360), canvas, 30, height - 430)
    _disparity_block(canvas, result, 30, height - 450)
    _district_table(canvas, result, 410, height - 70)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _disparity_block(canvas: Canvas, result: Coverage, x: float, y: float) -> None:
    canvas.setFont(KOREAN_FONT, 9)
    for k, metric in enumerate(METRICS):
        figures = result.disparity[metric]
        top, low = figures["max"] or {}, figures["min"] or {}
        canvas.drawString(
            x,
            y - 12 * k,
            f"{metric}: max/min {figures['ratio']} ({top.get('name_ko', '')} / {low.get('name_ko', '')}), "
            f"Gini {figures['gini']}",
        )


def _district_table(canvas: Canvas, result: Coverage, x: float, y: float) -> None:
    headers = ("구 district", "cameras", "per 1,000", "per km²", "area %")
    offsets = (0, 120, 175, 235, 295)
    canvas.setFont(KOREAN_FONT, 8)
    for offset, header in zip(offsets, headers, strict=True):
        canvas.drawString(x + offset, y, header)
    for k, row in enumerate(sorted(result.districts, key=lambda d: d["name_ko"])):
        line = y - 14 - 16.5 * k
        cells = (
            f"{row['name_ko']} {row['name_en']}",
            f"{row['cameras']:,}",
            f"{row['cameras_per_1000'] or 0:.2f}",
            f"{row['cameras_per_km2'] or 0:.1f}",
            f"{row['coverage_area_pct']:.2f}",
        )
        for offset, cell in zip(offsets, cells, strict=True):
            canvas.drawString(x + offset, line, cell)


def generated_name(prefix: str, at: datetime) -> str:
    return f"{prefix}-{at.astimezone(SEOUL).strftime('%Y%m%d-%H%M')}"
