"""Which camera to analyse next: full rate where something moves, every camera within 10 s.

Many cameras, few cores. Each camera has a budget:

* a camera where something moved recently (``motion_hold_s``) is analysed at the detect rate
  (``detect_fps``, 5 by default, Frigate's);
* a still camera is sampled every ``idle_interval_s`` in turn (round robin: the one analysed
  longest ago first);
* any camera not analysed for ``max_interval_s`` (10 s) goes before everyone: that is the
  guarantee behind the monitored share.

The **monitored share** is the cameras analysed within ``max_interval_s`` over all cameras the
scheduler holds; the supervisor adds those no worker holds (a crashed one) as unmonitored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SLACK_S = 1e-3  # clock jitter: a camera due in a millisecond is due
OVERDUE = 0.9  # share of the longest interval after which a camera goes before the moving ones


@dataclass
class Slot:
    """One camera's schedule."""

    camera_id: int
    added_at: float
    last_analysed: float | None = None
    last_tried: float | None = None
    moving_until: float = 0.0
    analysed: int = 0

    def waited(self, now: float) -> float:
        """Seconds since the camera's last turn (a frame that could not be analysed is a turn)."""
        return now - (self.last_tried if self.last_tried is not None else self.added_at - 1e6)


@dataclass
class Scheduler:
    detect_fps: float = 5.0
    idle_interval_s: float = 2.0
    max_interval_s: float = 10.0
    motion_hold_s: float = 3.0
    slots: dict[int, Slot] = field(default_factory=dict)

    def add(self, camera_id: int, now: float) -> None:
        self.slots.setdefault(camera_id, Slot(camera_id, now))

    def remove(self, camera_id: int) -> None:
        self.slots.pop(camera_id, None)

    def _period(self, slot: Slot, now: float) -> float:
        return 1.0 / self.detect_fps if now < slot.moving_until else self.idle_interval_s

    def next(self, now: float, ready: set[int] | None = None) -> int | None:
        """The camera to analyse now (None: nobody is due); ``ready`` limits the choice to the
        cameras that have a new frame (None: all have)."""
        due = [
            s
            for s in self.slots.values()
            if (ready is None or s.camera_id in ready) and s.waited(now) >= self._period(s, now) - SLACK_S
        ]
        if not due:
            return None
        overdue = [s for s in due if s.waited(now) >= self.max_interval_s * OVERDUE]
        if overdue:
            return max(overdue, key=lambda s: s.waited(now)).camera_id
        moving = [s for s in due if now < s.moving_until]
        if moving:
            return max(moving, key=lambda s: s.waited(now) * self.detect_fps).camera_id
        return max(due, key=lambda s: s.waited(now)).camera_id

    def wait_s(self, now: float) -> float:
        """Seconds until some camera is due (to sleep that long when none is)."""
        if not self.slots:
            return 0.2
        return max(0.0, min(self._period(s, now) - s.waited(now) for s in self.slots.values()))

    def done(self, camera_id: int, now: float, motion: bool, analysed: bool = True) -> None:
        """A camera had its turn at ``now`` (``analysed`` False: its frame was corrupt, which does
        not count as monitored); motion keeps it at the full rate for a while."""
        slot = self.slots.get(camera_id)
        if slot is None:
            return
        slot.last_tried = now
        if not analysed:
            return
        slot.last_analysed = now
        slot.analysed += 1
        if motion:
            slot.moving_until = now + self.motion_hold_s

    def monitored(self, now: float) -> list[int]:
        """Cameras analysed within ``max_interval_s``."""
        return [
            s.camera_id
            for s in self.slots.values()
            if s.last_analysed is not None and now - s.last_analysed <= self.max_interval_s
        ]

    def share(self, now: float) -> float:
        """Monitored cameras over cameras held (1.0 when none is held: nothing is missed)."""
        return len(self.monitored(now)) / len(self.slots) if self.slots else 1.0
