"""The completion certificate: one A4 page in Korean and English with the certificate number,
which the city's verification page can look up. Hangul through a CID font every PDF reader has."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

SEOUL = ZoneInfo("Asia/Seoul")
KOREAN_FONT = "HYSMyeongJo-Medium"


def certificate_pdf(
    *,
    number: str,
    name: str,
    course_ko: str,
    course_en: str,
    venue_ko: str,
    completed_at: datetime,
    attended: int,
    lessons: int,
) -> bytes:
    """The certificate of ``name`` for a course completed at ``completed_at``."""
    if KOREAN_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(KOREAN_FONT))
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"수료증 Certificate {number}")
    canvas.setAuthor("Seoul Metropolitan Government")
    canvas.setLineWidth(3)
    canvas.rect(36, 36, width - 72, height - 72)
    canvas.setFont(KOREAN_FONT, 34)
    canvas.drawCentredString(width / 2, height - 150, "수 료 증")
    canvas.setFont(KOREAN_FONT, 16)
    canvas.drawCentredString(width / 2, height - 180, "Certificate of Completion")
    canvas.setFont(KOREAN_FONT, 11)
    canvas.drawString(72, height - 230, f"제 {number} 호 / No. {number}")
    canvas.setFont(KOREAN_FONT, 15)
    lines = [
        f"성명 / Name: {name}",
        f"과정 / Course: {course_ko}",
        f"            {course_en}",
        f"장소 / Venue: {venue_ko}",
        f"출석 / Attended: {attended} / {lessons}",
    ]
    for row, line in enumerate(lines):
        canvas.drawString(90, height - 300 - row * 30, line)
    canvas.setFont(KOREAN_FONT, 13)
    canvas.drawCentredString(
        width / 2, height - 500, "위 사람은 서울시 스마트기기 교육 과정을 수료하였음을 증명합니다."
    )
    canvas.drawCentredString(
        width / 2, height - 522, "This certifies that the person above completed a Seoul smart-device course."
    )
    canvas.drawCentredString(
        width / 2, height - 590, completed_at.astimezone(SEOUL).strftime("%Y년 %m월 %d일")
    )
    canvas.setFont(KOREAN_FONT, 20)
    canvas.drawCentredString(width / 2, height - 640, "서울특별시장 / Mayor of Seoul")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
