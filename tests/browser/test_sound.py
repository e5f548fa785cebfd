"""The danger-sound console in a real headless Chromium: an operator sees a microphone's live level,
a detection arrives with a playable clip and its scores over time, thresholds are saved; Korean and
English; WCAG 2.2 AA by axe-core on the page as it is with live data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from smartseoul.safety.sound import runtime, service
from smartseoul.safety.sound.models import SoundDevice
from smartseoul.safety.sound.tests.helpers import ScriptedModel, tone
from tests.browser.conftest import DESKTOP, PATIENCE_MS, PHONE, LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]
DEVICE = "mic-browser-1"


@pytest.fixture
def microphone(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A standalone microphone at City Hall, and a scripted classifier (loud means scream): the
    page is under test here, the model has its own tests and benchmark."""
    monkeypatch.setattr(runtime, "shipped", lambda: ScriptedModel())
    runtime.hub_of(live_server.platform).states.pop(DEVICE, None)
    with live_server.platform.db.session() as session:
        if session.get(SoundDevice, DEVICE) is None:
            spec = service.DeviceSpec(device_id=DEVICE, lat=37.5665, lon=126.9780, name="시청 앞 마이크")
            service.add_device(session, spec, "test")
    return DEVICE


@pytest.fixture
def contexts(browser: Any, live_server: LiveServer) -> Iterator[list[Any]]:
    """Browser contexts a test opens, closed after it."""
    made: list[Any] = []
    yield made
    for context in made:
        context.close()


def _operator(browser: Any, live_server: LiveServer, contexts: list[Any], name: str, **options: Any) -> Any:
    context = browser.new_context(base_url=live_server.url, **options)
    contexts.append(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    account = live_server.account(name, ["operator"])
    page.set_default_timeout(PATIENCE_MS)
    log_in(page, account, otp=account.otp())
    return page


def test_an_operator_sees_the_level_hears_the_clip_and_sets_a_threshold(
    browser: Any, live_server: LiveServer, contexts: list[Any], microphone: str
) -> None:
    page = _operator(browser, live_server, contexts, "op.sound", viewport=PHONE, locale="ko-KR")
    page.goto("/console/sound")
    expect(page.locator("h1")).to_have_text(text("ko", "sound_console_title"))
    card = page.locator(f'.sound-device[data-device="{microphone}"]')
    expect(card.locator("h3")).to_contain_text("시청 앞 마이크")
    expect(page.locator("#sound-live")).to_have_text(text("ko", "sound_live"))
    hub = runtime.hub_of(live_server.platform)
    live_server.run(hub.feed(microphone, tone(300, 1.0, 0.02)))
    expect(card.locator("[data-role=level-text]")).to_contain_text("dBFS")
    live_server.run(hub.feed(microphone, tone(900, 1.0, 0.5)))
    row = page.locator("#sound-detection-rows tr").first
    expect(row).to_contain_text(text("ko", "sound_label_scream"))
    expect(row).to_contain_text("95%")
    expect(row.locator("svg.sound-spark polyline")).to_have_count(1)
    clip = row.locator("audio")
    src = clip.get_attribute("src")
    assert src is not None
    assert src.endswith("/clip.wav")
    status = page.evaluate("src => fetch(src).then(r => r.status + ' ' + r.headers.get('content-type'))", src)
    assert status == "200 audio/wav"
    assert axe_violations(page) == []

    card.locator('input[name="siren"]').fill("0.9")
    card.locator("[data-role=save]").click()
    expect(card.locator("[data-role=saved]")).to_have_text(text("ko", "sound_saved"))
    with live_server.platform.db.session() as session:
        assert session.get(SoundDevice, microphone).thresholds["siren"] == 0.9  # type: ignore[union-attr]
    card.locator('input[name="scream"]').fill("3")
    card.locator("[data-role=save]").click()
    expect(card.locator("[data-role=saved]")).to_contain_text("thresholds.scream")
    assert page.errors == []


def test_the_console_in_english_after_a_reload_keeps_the_detection(
    browser: Any, live_server: LiveServer, contexts: list[Any], microphone: str
) -> None:
    page = _operator(browser, live_server, contexts, "op.sound.en", viewport=DESKTOP, locale="en-GB")
    page.goto("/console/sound")
    expect(page.locator("h1")).to_have_text(text("en", "sound_console_title"))
    hub = runtime.hub_of(live_server.platform)
    live_server.run(hub.feed(microphone, tone(900, 1.0, 0.5)))
    page.reload()
    row = page.locator("#sound-detection-rows tr").first
    expect(row).to_contain_text(text("en", "sound_label_scream"))
    expect(row.locator("audio")).to_have_count(1)
    assert axe_violations(page) == []
    assert page.errors == []
