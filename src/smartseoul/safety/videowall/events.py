"""Events of the video wall: a camera's picture went wrong, or came right again."""

from __future__ import annotations

from smartseoul.core.events import Event

PROBLEM_NAMES = {
    "offline": ("영상 끊김", "offline"),
    "frozen": ("영상 정지", "frozen picture"),
    "black": ("검은 화면", "black picture"),
    "covered": ("렌즈 가림", "lens covered"),
    "blurred": ("초점 흐림", "heavy blur"),
    "moved": ("화각 틀어짐", "view moved"),
    "ok": ("정상", "fine"),
}


class CameraHealthChanged(Event):
    """One problem of a camera raised (``ok`` False) or cleared (``ok`` True), for the incident desk.

    Raised only after the problem held for its delay and cleared only after the camera was fine for
    a while (hysteresis), so each raise is followed by at most one clear.
    """

    type_name = "safety.camera.health.v1"
    camera_id: int
    problem: str
    ok: bool
    lat: float | None
    lon: float | None
    district_code: str | None
    detail: str = ""

    def summary(self, lang: str) -> str:
        ko, en = PROBLEM_NAMES.get(self.problem, (self.problem, self.problem))
        if lang == "ko":
            return f"카메라 #{self.camera_id} {ko} {'해소' if self.ok else '발생'}"
        return f"camera #{self.camera_id}: {en} {'cleared' if self.ok else 'detected'}"
