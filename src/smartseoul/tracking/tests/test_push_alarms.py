"""An alarm reaches the guardians' phones as real Web Push (VAPID-signed, aes128gcm), in their
language, without coordinates; a phone the push service says is gone is forgotten."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conftest import run_async
from smartseoul.core import auth, push
from smartseoul.core.bootstrap import Platform
from smartseoul.core.push_models import PushSubscription
from smartseoul.core.tests.push_service import Browser, PushService
from smartseoul.tracking import push_alarms
from smartseoul.tracking.events import AlarmRaised
from smartseoul.tracking.tests.test_app_api import _person


def _phone(platform: Platform, username: str, endpoint: str, browser: Browser, language: str) -> None:
    with platform.db.session() as session:
        user = auth.get_user(session, username)
        assert user is not None
        push.subscribe(
            session,
            endpoint=endpoint,
            p256dh=browser.p256dh,
            auth=browser.auth,
            settings=platform.settings.model_copy(update={"alerts_push_allow_loopback": True}),
            scope="guardian",
            language=language,
            user_id=user.id,
        )


def _sos(person_id: int, alarm_id: int = 41) -> AlarmRaised:
    return AlarmRaised(
        alarm_id=alarm_id,
        kind="sos",
        device_id=1,
        person_id=person_id,
        district_code="11110",
        lat=37.57,
        lon=126.98,
        position_is_last_known=False,
        position_age_s=None,
        emergency=True,
    )


def test_an_sos_is_pushed_to_each_guardian_phone_in_its_language(platform: Platform) -> None:
    child = _person(platform, "mother.push", "한지우", "8800000501")
    _person(platform, "father.elsewhere", "서민준", "8800000502")
    with PushService() as service:
        korean, english, gone, stranger = Browser(), Browser(), Browser(), Browser()
        _phone(platform, "mother.push", service.endpoint("ok", korean), korean, "ko")
        _phone(platform, "mother.push", service.endpoint("ok", english), english, "en")
        _phone(platform, "mother.push", service.endpoint("gone", gone), gone, "ko")
        _phone(platform, "father.elsewhere", service.endpoint("ok", stranger), stranger, "ko")
        results = run_async(push_alarms.push_alarm(platform, _sos(child)))
    assert sorted(r.outcome for r in results) == ["delivered", "delivered", "gone"]
    assert all(r.problem == "" for r in service.received)  # signed, and only each phone can read it
    by_phone: dict[str, Any] = {r.path: r.payload for r in service.received}
    assert sorted(by_phone) == ["/ok/0", "/ok/1"]  # the other family's phone got nothing
    assert by_phone["/ok/0"]["title"] == "🚨 긴급(SOS) · 한지우"
    assert by_phone["/ok/1"]["title"] == "🚨 SOS · 한지우"
    assert by_phone["/ok/1"]["body"].startswith("Open the guardian app")
    for payload in by_phone.values():
        assert payload["url"] == f"/app/persons/{child}"
        assert payload["tag"] == "alarm-41"
        assert "37.57" not in str(payload)
    assert {r.headers["urgency"] for r in service.received} == {"high"}
    with platform.db.session() as session:
        left = session.scalars(select(PushSubscription.endpoint)).all()
        assert not any("/gone/" in endpoint for endpoint in left)  # the gone phone is forgotten
        assert len(left) == 3
