"""Events of the cctv domain."""

from __future__ import annotations

from pydantic import Field

from smartseoul.core.events import Event


class CamerasAimed(Event):
    """The cameras that cover an incident's location, best first, and the PTZ cameras turned to it.

    ``moved_by_onvif`` lists the PTZ cameras that an ONVIF device confirmed; the others in
    ``ptz_camera_ids`` were turned in the registry only (no ONVIF endpoint, as in the demo), and
    ``failed_ptz_camera_ids`` those whose device refused or did not answer.
    """

    type_name = "safety.cameras.aimed.v1"
    incident_id: int
    lat: float
    lon: float
    camera_ids: list[int]
    ptz_camera_ids: list[int]
    moved_by_onvif: list[int] = Field(default_factory=list)
    failed_ptz_camera_ids: list[int] = Field(default_factory=list)

    def summary(self, lang: str) -> str:
        seen, turned = len(self.camera_ids), len(self.ptz_camera_ids)
        if lang == "ko":
            return f"사건 {self.incident_id}: 카메라 {seen}대 연결, PTZ {turned}대 회전"
        return f"incident {self.incident_id}: {seen} cameras on it, {turned} PTZ turned"


class CamerasImported(Event):
    """A national-layout file was imported (the coverage figures change)."""

    type_name = "safety.cameras.imported.v1"
    sites: int
    cameras: int
    by: str

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"CCTV 등록: 설치장소 {self.sites}곳, 카메라 {self.cameras}대 ({self.by})"
        return f"CCTV registry: {self.cameras} cameras at {self.sites} sites imported ({self.by})"
