"""The cameras console in headless Chromium: the 29,477 demo cameras clustered on the map, the
coverage choropleth and its disparity figures, the cameras covering a clicked spot, and the import
of a national-layout CP949 file (a good one, then a bad one refused row by row)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from smartseoul.safety.cctv.seed import seed_cameras
from smartseoul.safety.cctv.tests.helpers import national_csv, national_row
from tests.browser.conftest import LiveServer, text
from tests.browser.test_pages import current_code, digits, log_in

pytestmark = pytest.mark.browser
DEMO_CAMERAS = 29_477


@pytest.fixture(scope="module")
def demo_cameras(live_server: LiveServer) -> int:
    """The demo city's cameras in the server's database (one bulk insert)."""
    with live_server.platform.db.session() as session:
        return seed_cameras(session, live_server.platform.settings.demo_seed)


def _open(page: Any, live_server: LiveServer, username: str, roles: list[str]) -> None:
    account = live_server.account(username, roles)
    assert account.totp_secret
    log_in(page, account, otp=current_code(account.totp_secret))
    expect(page).to_have_url(f"{live_server.url}/console")
    page.locator("header nav a[href='/console/cameras']").click()
    expect(page).to_have_url(f"{live_server.url}/console/cameras")


def test_the_map_shows_clustered_cameras_choropleth_and_disparity(
    page: Any, live_server: LiveServer, demo_cameras: int, artifacts: Path
) -> None:
    assert demo_cameras == DEMO_CAMERAS
    _open(page, live_server, "op-cameras", ["operator"])
    cctv_map = page.locator("#cctv-map")
    expect(cctv_map).to_have_attribute("data-choropleth", "district:cameras_per_1000:25", timeout=30_000)
    expect(page.locator("#cctv-map path.leaflet-interactive")).to_have_count(25)
    # clusters: numbered bubbles that add up to every camera in view (the whole city)
    clusters = page.locator(".cctv-cluster")
    expect(clusters.first).to_be_visible(timeout=20_000)
    assert clusters.count() > 10
    total = sum(digits(label) for label in clusters.all_inner_texts())
    assert total == DEMO_CAMERAS
    expect(page.locator("#cctv-status")).to_contain_text("29,477")
    # disparity: Gangnam's and Dobong's real counts make the ratio well above 1
    ratio = page.locator("#cctv-disparity dd[data-field=ratio]")
    expect(ratio).to_have_text(re.compile(r"^\d+(\.\d+)?×$"))
    assert float(ratio.inner_text().rstrip("×")) > 2
    expect(page.locator("#cctv-city dd[data-field=cameras]")).to_have_text("29,477")
    expect(page.locator("#cctv-table tbody tr")).to_have_count(25)
    gangnam = page.locator("#cctv-table tr[data-code='11230']")
    expect(gangnam.locator("th")).to_have_text("강남구")
    assert digits(gangnam.locator("td").nth(1).inner_text()) == 2_780
    page.screenshot(path=str(artifacts / "cctv-console.png"), full_page=True)

    # another metric and the neighbourhoods: the map is coloured again, the figures follow
    page.select_option("#cctv-metric", "coverage_area_pct")
    expect(cctv_map).to_have_attribute("data-choropleth", "district:coverage_area_pct:25")
    expect(page.locator("#cctv-disparity")).to_have_attribute("data-metric", "coverage_area_pct")
    page.select_option("#cctv-level", "neighbourhood")
    expect(cctv_map).to_have_attribute(
        "data-choropleth", "neighbourhood:coverage_area_pct:423", timeout=30_000
    )
    expect(page.locator("#cctv-legend")).to_contain_text(text("ko", "cctv_metric_coverage_area_pct"))

    # zooming in on a cluster splits it
    before = clusters.count()
    clusters.first.click()
    page.wait_for_function(f"() => document.querySelectorAll('.cctv-cluster').length !== {before}")
    page.screenshot(path=str(artifacts / "cctv-console-zoomed.png"), full_page=True)


def test_an_operator_imports_a_cp949_file_and_a_bad_one_is_refused_row_by_row(
    page: Any,
    live_server: LiveServer,
    demo_cameras: int,
    tmp_path: Path,
    artifacts: Path,
    page_errors: list[str],
) -> None:
    _open(page, live_server, "op-import", ["operator"])
    good = tmp_path / "중구_CCTV.csv"
    good.write_bytes(
        national_csv(national_row(cameras="2"), national_row(37.5126, 127.059, cameras="1"), encoding="cp949")
    )
    page.set_input_files("#cctv-import-file", str(good))
    page.locator("#cctv-import button[type=submit]").click()
    expect(page.locator("#cctv-import-result .ok")).to_have_text("설치장소 2곳, 카메라 3대를 가져왔습니다.")
    expect(page.locator("#cctv-city dd[data-field=cameras]")).to_have_text("29,480", timeout=30_000)

    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        national_csv(
            national_row(37.57, 126.98),
            national_row(35.1796, 129.0756),
            national_row(37.58, 126.99, purpose="감시"),
            encoding="cp949",
        )
    )
    page.set_input_files("#cctv-import-file", str(bad))
    page.select_option("#cctv-import-encoding", "cp949")
    page.locator("#cctv-import button[type=submit]").click()
    expect(page.locator("#cctv-import-result .error")).to_contain_text(text("ko", "cctv_import_refused"))
    errors = page.locator("#cctv-import-result .cctv-import-errors li")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("행 3 · WGS84위도")
    expect(errors.nth(1)).to_contain_text("행 4 · 설치목적구분")
    page.screenshot(path=str(artifacts / "cctv-import.png"), full_page=True)
    # the browser logs the refused upload (HTTP 422): that refusal is what this test checks
    expected = [e for e in page_errors if "422" in e and "/api/v1/cameras/import" in e]
    assert len(expected) == 1
    page_errors.remove(expected[0])


def test_clicking_the_map_lists_the_cameras_that_see_the_spot(
    page: Any, live_server: LiveServer, demo_cameras: int
) -> None:
    _open(page, live_server, "op-near", ["operator"])
    expect(page.locator("#cctv-map")).to_have_attribute(
        "data-choropleth", re.compile("district"), timeout=30_000
    )
    box = page.locator("#cctv-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.55)
    expect(page.locator("#cctv-near li").first).to_be_visible()


def test_a_guardian_is_refused_the_cameras_page(page: Any, live_server: LiveServer) -> None:
    guardian = live_server.account("guardian-cctv", ["guardian"])
    log_in(page, guardian)
    response = page.goto("/console/cameras")
    assert response is not None
    assert response.status == 403
