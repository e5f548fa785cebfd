"""Web Push as a phone receives it: VAPID-signed, aes128gcm-encrypted, gone subscriptions removed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import make_settings, run_async
from smartseoul.core import push
from smartseoul.core.push_models import PushSubscription
from smartseoul.core.tests.push_service import Browser, PushService


def _platform(tmp_path: Path) -> Any:
    return SimpleNamespace(settings=make_settings(tmp_path, alerts_push_allow_loopback=True), cache={})


def _subscribe(db: Session, platform: Any, endpoint: str, browser: Browser, **extra: Any) -> PushSubscription:
    return push.subscribe(
        db, endpoint=endpoint, p256dh=browser.p256dh, auth=browser.auth, settings=platform.settings, **extra
    )


def test_vapid_keys_are_made_once_and_kept(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = push.vapid(settings)
    again = push.vapid(settings)
    assert first.public_key == again.public_key
    assert len(push.b64url_decode(first.public_key)) == 65  # an uncompressed P-256 point
    assert (tmp_path / push.VAPID_FILE).stat().st_mode & 0o077 == 0


def test_a_push_is_signed_and_only_the_subscriber_can_read_it(db: Session, tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    payload = {"title": "호우 경보", "body": "강남구 침수 위험", "url": "/alerts?alert=1", "tag": "alert-1"}
    with PushService() as service:
        browser = Browser()
        subscription = _subscribe(db, platform, service.endpoint("ok", browser), browser)
        results = run_async(push.send_to(db, platform, [subscription], payload))
    assert [(r.outcome, r.status, r.attempts) for r in results] == [("delivered", 201, 1)]
    [received] = service.received
    assert received.problem == ""
    assert received.payload == payload
    assert received.headers["ttl"] == "3600"
    assert received.headers["urgency"] == "high"
    assert subscription.last_success_at is not None


def test_a_message_for_another_browser_cannot_be_decrypted(db: Session, tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    with PushService() as service:
        browser, stranger = Browser(), Browser()
        endpoint = service.endpoint("ok", browser)
        service.browsers[endpoint.removeprefix(service.base)] = (
            stranger  # the service decrypts as someone else
        )
        subscription = _subscribe(db, platform, endpoint, browser)
        results = run_async(push.send_to(db, platform, [subscription], {"title": "x"}))
    assert results[0].outcome == "failed"
    assert service.received[0].problem.startswith("cannot decrypt")


def test_gone_subscriptions_are_removed_and_5xx_is_retried(db: Session, tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    with PushService() as service:
        gone, flaky, down = Browser(), Browser(), Browser()
        subs = [
            _subscribe(db, platform, service.endpoint("gone", gone), gone),
            _subscribe(db, platform, service.endpoint("flaky", flaky), flaky),
            _subscribe(db, platform, service.endpoint("down", down), down),
        ]
        down_endpoint = subs[2].endpoint
        results = run_async(push.send_to(db, platform, subs, {"title": "t", "body": "b"}))
    assert [(r.outcome, r.status, r.attempts) for r in results] == [
        ("gone", 410, 1),
        ("delivered", 201, 3),
        ("failed", 503, 3),
    ]
    db.flush()
    left = {s.endpoint: s for s in db.scalars(select(PushSubscription))}
    assert results[0].endpoint not in left
    assert left[down_endpoint].failures == 1
    assert "503" in (left[down_endpoint].last_error or "")


def test_subscribing_again_updates_and_area_lookup(db: Session, tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    browser, other = Browser(), Browser()
    endpoint = "http://127.0.0.1:9/ok/1"
    _subscribe(db, platform, endpoint, browser, district_codes=["11230"])
    again = _subscribe(db, platform, endpoint, browser, lat=37.49791234, lon=127.02761234, language="en")
    _subscribe(db, platform, "http://127.0.0.1:9/ok/2", other, district_codes=["11110"])
    assert (again.lat, again.lon, again.language) == (37.498, 127.028, "en")  # rounded to ~100 m
    assert again.district_codes == []
    near = push.subscriptions_in_area(db, ["11230"], lambda lat, lon: abs(lat - 37.498) < 0.01)
    assert [s.endpoint for s in near] == [endpoint]
    by_code = push.subscriptions_in_area(db, ["11110"], lambda lat, lon: False)
    assert [s.endpoint for s in by_code] == ["http://127.0.0.1:9/ok/2"]


@pytest.mark.parametrize(
    ("endpoint", "keys", "field"),
    [
        ("ftp://push.example/x", None, "endpoint"),
        ("https://10.1.2.3/push", None, "endpoint"),
        ("https://[fe80::1]/push", None, "endpoint"),
        ("https://push.example/x", ("bm90LWEta2V5", None), "keys.p256dh"),
        ("https://push.example/x", (None, "c2hvcnQ"), "keys.auth"),
    ],
)
def test_malformed_subscriptions_are_refused_naming_the_field(
    db: Session, tmp_path: Path, endpoint: str, keys: tuple[str | None, str | None] | None, field: str
) -> None:
    browser = Browser()
    p256dh, auth = keys or (None, None)
    with pytest.raises(push.InvalidSubscription, match=f"^{field}:"):
        push.subscribe(
            db,
            endpoint=endpoint,
            p256dh=p256dh or browser.p256dh,
            auth=auth or browser.auth,
            settings=make_settings(tmp_path),
        )


def test_loopback_endpoints_need_the_setting(db: Session, tmp_path: Path) -> None:
    browser = Browser()
    with pytest.raises(push.InvalidSubscription, match="this machine"):
        push.subscribe(
            db,
            endpoint="http://127.0.0.1:8000/admin",
            p256dh=browser.p256dh,
            auth=browser.auth,
            settings=make_settings(tmp_path),
        )
