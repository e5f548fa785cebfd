"""Settings from ``SMARTSEOUL_*`` environment variables.

Every field carries a title, a description and bounds (the Frigate way), so the README's
Configuration table and ``smartseoul config`` are generated from this one place and cannot drift.
"""

from __future__ import annotations

import ipaddress
import secrets
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SMARTSEOUL_"


class Settings(BaseSettings):
    """The whole configuration of one Smart Seoul process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    data_dir: Path = Field(
        Path("var"),
        title="Data directory",
        description="Where the embedded database, the generated secret key and uploaded files live.",
    )
    database_url: str = Field(
        "",
        title="Database URL",
        description=(
            "SQLAlchemy URL. Empty means SQLite at DATA_DIR/smartseoul.db (WAL, foreign keys on); "
            "use postgresql+psycopg://user@host:5432/db for the production setup."
        ),
    )
    bus_url: str = Field(
        "memory://",
        title="Event bus URL",
        description="memory:// for the in-process bus, nats://host:4222 for NATS JetStream.",
    )
    bus_stream: str = Field(
        "SMARTSEOUL",
        title="JetStream stream name",
        description="Name of the JetStream stream that holds every platform event.",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
    )
    host: str = Field("127.0.0.1", title="Listen host", description="Address the web server binds to.")
    port: int = Field(8000, ge=1, le=65535, title="Listen port", description="Port of the web server.")
    secret_key: str = Field(
        "",
        title="Secret key",
        description=(
            "Signs session cookies, CSRF tokens and API bearer tokens. Empty means a random key "
            "generated once and kept in DATA_DIR/secret_key. At least 32 characters when set."
        ),
    )
    token_ttl_seconds: int = Field(
        3600, ge=60, le=86400, title="Token lifetime", description="Lifetime of API bearer tokens in seconds."
    )
    session_ttl_seconds: int = Field(
        28800,
        ge=300,
        le=604800,
        title="Session lifetime",
        description="Lifetime of a page session in seconds.",
    )
    secure_cookies: bool = Field(
        False,
        title="Secure cookies",
        description="Mark cookies Secure (HTTPS only). Turn on behind TLS in production.",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=100,
        title="Login failures before lockout",
        description="Consecutive failed logins of one account before it is locked.",
    )
    login_lockout_seconds: int = Field(
        900, ge=1, le=86400, title="Lockout duration", description="How long a locked account stays locked."
    )
    login_rate_per_minute: int = Field(
        20,
        ge=1,
        le=10000,
        title="Login attempts per minute per client",
        description="Login attempts accepted per minute from one client address before HTTP 429.",
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        le=1_073_741_824,
        title="Maximum request body",
        description="Requests with a larger body are refused with HTTP 413.",
    )
    language: Literal["ko", "en"] = Field(
        "ko", title="Default language", description="UI language when the browser states no preference."
    )
    timezone: str = Field(
        "Asia/Seoul", title="Display time zone", description="Time zone in which times are shown to people."
    )
    demo_seed: int = Field(
        20151, ge=0, title="Demo seed", description="Seed of the deterministic demo city (schools, activity)."
    )
    simulate_rate: float = Field(
        2.0,
        gt=0,
        le=10000,
        title="Simulator rate",
        description="Average simulated events per second produced by `smartseoul simulate` and the demo.",
    )
    tracking_listeners: bool = Field(
        True, title="Device listeners", description="Start the GPS device listeners with `smartseoul serve`."
    )
    tracking_osmand_port: int = Field(
        5055,
        ge=0,
        le=65535,
        title="OsmAnd port",
        description="HTTP port for OsmAnd / Traccar Client devices.",
    )
    tracking_watch_port: int = Field(
        5093,
        ge=0,
        le=65535,
        title="Watch protocol port",
        description="TCP port for kids' GPS watches ([3G*...], [SG*...], [ZJ*...] frames).",
    )
    tracking_gt06_port: int = Field(
        5023, ge=0, le=65535, title="GT06 port", description="TCP port for GT06 devices."
    )
    tracking_h02_port: int = Field(
        5013, ge=0, le=65535, title="H02 port", description="TCP port for H02 devices."
    )
    tracking_listen_host: str = Field(
        "0.0.0.0",  # noqa: S104 (devices reach the listeners from the mobile network)
        title="Device listener host",
        description="Address the device listeners bind to.",
    )
    tracking_mqtt_url: str = Field(
        "",
        title="OwnTracks MQTT broker",
        description="mqtt://host:1883 to receive OwnTracks phones on owntracks/USER/DEVICE; empty: off.",
        pattern=r"^(mqtt://.+)?$",
    )
    tracking_retention_days: int = Field(
        180,
        ge=1,
        le=3650,
        title="Position retention",
        description="Positions older than this many days are purged; records of provision are kept.",
    )
    tracking_zones: bool = Field(
        True,
        title="Safe zone evaluation",
        description=(
            "Evaluate safe zones (with hysteresis) for every stored GPS position and raise "
            "geofence, left-school and not-arrived alarms."
        ),
    )
    # --- cctv settings (prefix cctv_) ---
    cctv_aim_incidents: bool = Field(
        True,
        title="Aim cameras at incidents",
        description=(
            "On safety.incident.opened.v1 with a location, list the covering cameras, turn up to "
            "cctv_aim_max_ptz PTZ cameras to the spot and publish safety.cameras.aimed.v1."
        ),
    )
    cctv_aim_max_ptz: int = Field(
        3,
        ge=0,
        le=20,
        title="PTZ cameras per incident",
        description="PTZ cameras turned to one incident at most.",
    )
    cctv_onvif_timeout_s: float = Field(
        3.0,
        ge=0.2,
        le=30.0,
        title="ONVIF timeout",
        description="Seconds to wait for a camera's ONVIF PTZ service before reporting it did not move.",
    )
    # --- placement settings (prefix placement_) ---
    placement_time_limit_s: float = Field(
        60.0,
        ge=1,
        le=600,
        title="Placement solve time limit",
        description="Most seconds a placement plan may solve; the plan reports its proven gap at that point.",
    )
    placement_sync_max_cells: int = Field(
        20000,
        ge=100,
        le=1000000,
        title="Largest synchronous placement grid",
        description="Plans on a demand grid with more cells than this (or more candidate sites than "
        "placement_sync_max_sites) are solved in the background; the API answers 202 with the plan's status.",
    )
    placement_sync_max_sites: int = Field(
        6000,
        ge=10,
        le=100000,
        title="Most candidate sites solved synchronously",
        description="Plans with more candidate sites than this are solved in the background.",
    )
    # --- incidents settings (prefix incidents_) ---
    incidents_correlation_m: float = Field(
        150.0,
        ge=0.0,
        le=5000.0,
        title="Incident correlation distance (m)",
        description="Alarms this close to an open incident's place join it instead of opening another.",
    )
    incidents_correlation_s: int = Field(
        180,
        ge=0,
        le=3600,
        title="Incident correlation window (s)",
        description="Alarms within this many seconds of an open incident's last alarm may join it.",
    )
    incidents_school_zone_m: float = Field(
        300.0,
        ge=0.0,
        le=2000.0,
        title="School zone radius (m)",
        description="An incident this close to a school is one priority level more urgent.",
    )
    incidents_night_start_hour: int = Field(
        22,
        ge=0,
        le=23,
        title="Night starts (hour, Seoul)",
        description="From this hour (Asia/Seoul) an incident is one priority level more urgent.",
    )
    incidents_night_end_hour: int = Field(
        6,
        ge=0,
        le=23,
        title="Night ends (hour, Seoul)",
        description="Night ends at this hour (Asia/Seoul).",
    )
    incidents_ack_timeout_s: int = Field(
        60,
        ge=5,
        le=3600,
        title="Acknowledgement time, urgent (s)",
        description="An SOS or other priority 1-2 incident not acknowledged in this time escalates: "
        "first to the supervisor, after the same time again to the police hand-over.",
    )
    incidents_ack_timeout_low_s: int = Field(
        900,
        ge=5,
        le=86400,
        title="Acknowledgement time, low priority (s)",
        description="The same for priority 3-4 incidents (faults escalate to the supervisor only).",
    )
    incidents_timer_interval_s: float = Field(
        1.0,
        ge=0.05,
        le=60.0,
        title="Incident timer period (s)",
        description="How often escalations, bell heartbeats and hand-over deadlines are checked.",
    )
    incidents_handover_max_attempts: int = Field(
        6,
        ge=1,
        le=20,
        title="Hand-over delivery attempts",
        description="Webhook attempts before a hand-over becomes a dead letter (shown on the desk).",
    )
    incidents_handover_backoff_s: float = Field(
        2.0,
        ge=0.01,
        le=600.0,
        title="Hand-over first retry delay (s)",
        description="Delay before the second attempt; each later one waits twice as long.",
    )
    incidents_handover_timeout_s: float = Field(
        10.0,
        ge=0.1,
        le=120.0,
        title="Hand-over HTTP timeout (s)",
        description="Per webhook request.",
    )
    incidents_handover_ack_timeout_s: int = Field(
        300,
        ge=5,
        le=86400,
        title="Agency acknowledgement time (s)",
        description="A delivered hand-over not acknowledged in this time is sent again (re-alert).",
    )
    incidents_handover_max_realerts: int = Field(
        3,
        ge=0,
        le=20,
        title="Hand-over re-alerts",
        description="How often an unacknowledged hand-over is re-sent.",
    )
    incidents_bell_heartbeat_s: int = Field(
        300,
        ge=5,
        le=86400,
        title="Bell heartbeat timeout (s)",
        description="A bell silent for this long is marked faulty and a fault incident opens.",
    )
    incidents_workers: bool = Field(
        True,
        title="Run incident workers",
        description="Run the escalation timers and the hand-over outbox here (several may: rows are locked).",
    )
    incidents_mqtt_url: str = Field(
        "",
        title="Emergency bells MQTT broker",
        description="mqtt://host:1883 for bells on smartseoul/bells/ID/press|heartbeat|tamper; empty: off.",
        pattern=r"^(mqtt://.+)?$",
    )
    # --- alerts settings (prefix alerts_) ---
    alerts_sender: str = Field(
        "safety@smartseoul.seoul.kr",
        title="CAP sender",
        description="The <sender> of every CAP message the platform issues (no spaces or commas).",
        pattern=r"^[^\s,<&]{3,128}$",
    )
    alerts_city_wide_fraction: float = Field(
        0.5,
        ge=0.05,
        le=1.0,
        title="City-wide alert threshold",
        description=(
            "An alert covering this share of the city's area (or every district) needs a second "
            "person's approval."
        ),
    )
    alerts_default_expiry_minutes: int = Field(
        360,
        ge=5,
        le=10080,
        title="Alert lifetime",
        description="Minutes an alert stays current unless given.",
    )
    alerts_push: bool = Field(
        True,
        title="Web Push for alerts",
        description="Send issued, updated and cancelled alerts by Web Push.",
    )
    alerts_push_subject: str = Field(
        "mailto:safety@smartseoul.seoul.kr",
        title="VAPID subject",
        description="Contact (mailto: or https:) that push services see in the VAPID token.",
        pattern=r"^(mailto:|https://)\S+$",
    )
    alerts_push_ttl_seconds: int = Field(
        3600,
        ge=0,
        le=2419200,
        title="Web Push TTL",
        description="How long a push service keeps an alert for a phone that is offline.",
    )
    alerts_push_allow_loopback: bool = Field(
        False,
        title="Loopback push endpoints",
        description=(
            "Accept http://127.0.0.1 push endpoints (tests, local push stand-ins); never in production."
        ),
    )
    # --- videowall settings (prefix videowall_) ---
    videowall_fps: float = Field(
        5.0,
        ge=0.5,
        le=30,
        title="Wall frame rate",
        description="Frames per second of each live tile (MJPEG).",
    )
    videowall_frame_width: int = Field(
        640,
        ge=160,
        le=1920,
        title="Tile width",
        description="Width in pixels of the demo's synthetic pictures.",
    )
    videowall_frame_height: int = Field(
        360,
        ge=90,
        le=1080,
        title="Tile height",
        description="Height in pixels of the demo's synthetic pictures.",
    )
    videowall_jpeg_quality: int = Field(
        75, ge=30, le=95, title="Tile JPEG quality", description="JPEG quality of live tiles and snapshots."
    )
    videowall_health: bool = Field(
        True, title="Camera health monitor", description="Check watched cameras' pictures for faults."
    )
    videowall_health_interval_s: float = Field(
        1.0,
        ge=0.1,
        le=60,
        title="Health check interval",
        description="Seconds between two looks at a camera.",
    )
    videowall_health_max_cameras: int = Field(
        64,
        ge=1,
        le=10000,
        title="Watched cameras",
        description="Most cameras the health monitor watches at once (grouped cameras and open tiles).",
    )
    videowall_health_raise_s: float = Field(
        3.0,
        ge=0,
        le=600,
        title="Raise delay",
        description="Seconds a black, covered, blurred or moved picture must last before its alarm.",
    )
    videowall_health_clear_s: float = Field(
        5.0,
        ge=0,
        le=600,
        title="Clear delay",
        description="Seconds a camera must be fine before its alarm clears.",
    )
    videowall_offline_after_s: float = Field(
        10.0,
        ge=1,
        le=3600,
        title="Offline after",
        description="Seconds without a frame before a camera is offline.",
    )
    videowall_frozen_after_s: float = Field(
        5.0,
        ge=1,
        le=3600,
        title="Frozen after",
        description="Seconds of an unchanging picture before it is frozen.",
    )
    videowall_blur_ratio: float = Field(
        0.35,
        gt=0,
        lt=1,
        title="Blur ratio",
        description="A picture is blurred when its sharpness falls under this share of its reference's.",
    )
    videowall_demo_faults: bool = Field(
        True,
        title="Demo camera faults",
        description="The simulator now and then makes a grouped camera nobody watches fail for a minute.",
    )
    videowall_moved_px: float = Field(
        12.0,
        ge=1,
        le=1000,
        title="Moved shift",
        description="Shift in pixels from the reference frame that means moved.",
    )
    videowall_moved_similarity: float = Field(
        0.5,
        ge=0,
        le=1,
        title="Moved similarity",
        description="Similarity to the reference frame under which a view counts as moved.",
    )
    # --- complaints settings (prefix complaints_) ---
    complaints_delivery_max_attempts: int = Field(
        6,
        ge=1,
        le=50,
        title="Delivery attempts",
        description="Tries of one complaint's delivery to a department before it is a dead letter.",
    )
    complaints_delivery_backoff_s: float = Field(
        5.0,
        ge=0,
        le=3600,
        title="Delivery backoff",
        description="Seconds before the second try of a delivery; doubled after each failure.",
    )
    complaints_delivery_timeout_s: float = Field(
        10.0,
        gt=0,
        le=120,
        title="Delivery timeout",
        description="Seconds to wait for a department's webhook to answer.",
    )
    complaints_worker_interval_s: float = Field(
        2.0,
        gt=0,
        le=600,
        title="Worker interval",
        description="Seconds between passes of the delivery and notification worker when nothing wakes it.",
    )
    complaints_media_max_bytes: int = Field(
        900_000,
        ge=10_000,
        le=50_000_000,
        title="Photo size limit",
        description="Largest photo attached to a complaint, in bytes (the page shrinks photos to fit; "
        "keep it under max_body_bytes).",
    )
    complaints_worker: bool = Field(
        True,
        title="Run the delivery worker",
        description="Deliver complaints to departments and push updates to citizens in this process.",
    )
    # --- end of complaints settings ---
    # --- reservations settings (prefix reservations_) ---
    reservations_hold_minutes: int = Field(
        15,
        ge=1,
        le=1440,
        title="Unpaid hold",
        description=(
            "Minutes a booking with a fee holds its seat while the citizen pays; then the seat is freed."
        ),
    )
    reservations_sweep_seconds: float = Field(
        30.0,
        ge=1,
        le=3600,
        title="Sweep interval",
        description=(
            "Seconds between sweeps that expire unpaid holds and confirm bookings whose payment was captured."
        ),
    )
    reservations_no_show_window_days: int = Field(
        90,
        ge=1,
        le=730,
        title="No-show window",
        description="Days back over which a person's no-shows count against a facility's no-show limit.",
    )
    # --- end of reservations settings ---
    # --- payments settings (prefix payments_) ---
    payments_sim_secret: str = Field(
        "",
        max_length=256,
        title="Simulated provider secret",
        description=(
            "HMAC key the simulated payment provider signs callbacks "
            "with; empty derives one from the secret key."
        ),
    )
    payments_callback_tolerance_seconds: int = Field(
        300,
        ge=10,
        le=3600,
        title="Callback age limit",
        description=(
            "A signed payment callback older (or further in the future) than this is refused as a replay."
        ),
    )
    payments_recover_after_seconds: int = Field(
        60,
        ge=5,
        le=86400,
        title="Recovery delay",
        description=(
            "A payment still pending after this many seconds is queried from the provider and completed."
        ),
    )
    # --- end of payments settings ---
    # --- catalog settings (prefix catalog_) ---
    # --- end of catalog settings ---
    # --- identity settings (prefix identity_) ---
    identity_assurance_ttl_seconds: int = Field(
        900,
        ge=60,
        le=28800,
        title="Certificate assurance lifetime",
        description="How long a certificate login lets a citizen use services that need a certificate.",
    )
    identity_challenge_ttl_seconds: int = Field(
        300,
        ge=30,
        le=3600,
        title="Login challenge lifetime",
        description="Seconds a certificate-login nonce may be signed and presented (used once).",
    )
    identity_citizen_cert_days: int = Field(
        365,
        ge=1,
        le=1825,
        title="Citizen certificate validity",
        description="Days a citizen certificate issued by the city CA stays valid.",
    )
    # --- end of identity settings ---
    # --- certificates settings (prefix certificates_) ---
    certificates_public_url: str = Field(
        "http://127.0.0.1:8000",
        title="Public URL of the verify page",
        description="Base URL printed in a document's QR code and text; /verify/{number} is appended.",
        pattern=r"^https?://[A-Za-z0-9.:\[\]_-]+(/[A-Za-z0-9._~/-]*)?$",
        max_length=200,
    )
    # --- end of certificates settings ---
    # --- content settings (prefix content_) ---
    content_public_url: str = Field(
        "",
        max_length=200,
        pattern=r"^(https?://[^/\s]+)?$",
        title="Public portal address",
        description="Scheme and host search engines see in canonical URLs and sitemaps "
        "(e.g. https://www.seoul.go.kr); empty: the address of the request.",
    )
    content_page_size: int = Field(
        20, ge=5, le=100, title="Search page size", description="Search results per page (web and API)."
    )
    content_import_max_bytes: int = Field(
        5_000_000,
        ge=10_000,
        le=500_000_000,
        title="Largest imported file",
        description="An HTML file or attachment above this size is reported and not imported.",
    )
    # --- end of content settings ---
    # --- wifi settings (prefix wifi_) ---
    wifi_report_interval_s: int = Field(
        60,
        ge=5,
        le=3600,
        title="WiFi status report interval",
        description="Seconds between two status reports an access point is expected to send.",
    )
    wifi_missed_reports: int = Field(
        3,
        ge=1,
        le=100,
        title="Missed reports before down",
        description="An access point that misses this many report intervals is down (outage alarm).",
    )
    wifi_workers: bool = Field(
        True, title="WiFi health sweep", description="Run the task that marks silent access points down."
    )
    wifi_mqtt_url: str = Field(
        "",
        title="WiFi MQTT broker",
        description="mqtt://host:1883 to take status reports from smartseoul/wifi/{ap}/status; empty: off.",
    )
    wifi_radius_port: int = Field(
        0,
        ge=0,
        le=65535,
        title="RADIUS accounting port",
        description="UDP port of the RFC 2866 accounting listener (1813 is the standard); 0: off.",
    )
    wifi_radius_host: str = Field(
        "127.0.0.1", title="RADIUS listen host", description="Address the accounting listener binds to."
    )
    wifi_radius_secret: str = Field(
        "",
        max_length=128,
        title="RADIUS shared secret",
        description="Secret shared with the access controllers; requests that do not match are dropped.",
    )
    wifi_radius_clients: str = Field(
        "127.0.0.1/32,::1/128",
        max_length=4000,
        title="RADIUS clients",
        description="Comma-separated addresses or networks (CIDR) of the access controllers allowed to "
        "send accounting; requests from anywhere else are dropped and logged, secret or not.",
    )
    # --- end of wifi settings ---
    # --- education settings (prefix education_) ---
    education_target_per_year: int = Field(
        200_000,
        ge=1,
        le=10_000_000,
        title="Trained per year (target)",
        description="People the plan wants trained in a year (the dashboard's yearly bar).",
    )
    education_target_total: int = Field(
        1_000_000,
        ge=1,
        le=100_000_000,
        title="Trained in total (target)",
        description="People the plan wants trained in all (the dashboard's total bar).",
    )
    education_workers: bool = Field(
        True,
        title="Education reminders",
        description="Run the task that queues reminders the day before a class and sends the outbox.",
    )
    education_worker_interval_s: float = Field(
        60.0,
        ge=1,
        le=3600,
        title="Reminder check interval",
        description="Seconds between two runs of the reminder and outbox task.",
    )
    # --- end of education settings ---
    # --- sound settings (prefix sound_) ---
    sound_threshold: float = Field(
        0.6,
        ge=0.05,
        le=1.0,
        title="Default detection threshold",
        description=(
            "Set: the score every danger class must reach. Unset: the per-class thresholds calibrated "
            "with the shipped model apply. A device's own threshold for a class wins over both."
        ),
    )
    sound_gate_dbfs: float = Field(
        -55.0,
        ge=-100.0,
        le=0.0,
        title="Energy gate",
        description="Windows quieter than this RMS level (dBFS) are not classified: silence costs nothing.",
    )
    sound_hop_s: float = Field(
        0.25,
        ge=0.1,
        le=1.0,
        title="Window hop",
        description="Seconds between two classified 1 s windows (smaller: lower latency, more CPU).",
    )
    sound_cooldown_s: float = Field(
        10.0,
        ge=0.0,
        le=600.0,
        title="Repeat suppression",
        description="Seconds during which the same class on the same device is not reported again.",
    )
    sound_silent_after_s: int = Field(
        60,
        ge=5,
        le=86_400,
        title="Silent device fault",
        description="A streaming device that sends nothing for this long gets a health fault.",
    )
    sound_clip_s: float = Field(
        4.0, ge=1.0, le=30.0, title="Clip length", description="Seconds of audio kept with each detection."
    )
    sound_mqtt_url: str = Field(
        "",
        title="Sound MQTT broker",
        description="mqtt://host:1883 for bell microphones on smartseoul/bells/ID/audio (s16le); empty: off.",
        pattern=r"^(mqtt://.+)?$",
    )
    sound_workers: bool = Field(
        True,
        title="Sound workers",
        description="Run the camera audio readers and the silent-device check in this process.",
    )
    # --- end of sound settings ---
    # --- monitoring settings (prefix monitoring_) ---
    monitoring_enabled: bool = Field(
        True,
        title="Automated video monitoring",
        description="Analyse the cameras listed for monitoring (workers start only when some are listed).",
    )
    monitoring_detector: Literal["ssdlite", "hog", "onnx"] = Field(
        "ssdlite",
        title="Person detector",
        description=(
            "ssdlite: SSDLite-MobileNetV2 via OpenCV DNN (MIT); hog: OpenCV's HOG people detector; "
            "onnx: the ONNX model of monitoring_onnx_model run by ONNX Runtime."
        ),
    )
    monitoring_onnx_model: str = Field(
        "",
        max_length=1024,
        title="ONNX detector model",
        description="Path of the ONNX person model (detector onnx); none is shipped, nothing is downloaded.",
    )
    monitoring_onnx_providers: str = Field(
        "CPUExecutionProvider",
        min_length=1,
        max_length=512,
        title="ONNX Runtime execution providers",
        description=(
            "Comma-separated, in order of preference (e.g. CUDAExecutionProvider,CPUExecutionProvider): "
            "those this machine's ONNX Runtime lacks are skipped, so a GPU is used where there is one."
        ),
    )
    monitoring_workers: int = Field(
        1,
        ge=1,
        le=64,
        title="Analysis workers",
        description="Worker processes that decode and analyse cameras.",
    )
    monitoring_detect_fps: float = Field(
        5.0,
        ge=0.5,
        le=30,
        title="Detect rate",
        description="Analysed frames per second of a camera with motion.",
    )
    monitoring_idle_interval_s: float = Field(
        2.0,
        ge=0.1,
        le=60,
        title="Idle sampling interval",
        description="Seconds between two looks at a camera without motion (round robin).",
    )
    monitoring_max_interval_s: float = Field(
        10.0,
        ge=1,
        le=300,
        title="Longest interval",
        description="A shared camera not analysed within this many seconds counts as unmonitored.",
    )
    monitoring_width: int = Field(
        480,
        ge=160,
        le=1920,
        title="Analysis width",
        description="Frames are scaled down to this width first.",
    )
    monitoring_score_threshold: float = Field(
        0.5,
        ge=0.05,
        le=0.99,
        title="Detection threshold",
        description="Lowest detector score kept (per camera, raised by false-positive feedback).",
    )
    monitoring_stream_port: int = Field(
        8765,
        ge=0,
        le=65535,
        title="Demo stream server port",
        description="Port of the local MJPEG server of the demo's camera streams (0: not started).",
    )
    monitoring_bus_workers: bool = Field(
        True,
        title="Workers through the bus",
        description=(
            "With a NATS bus, cameras are shared through it by every worker of the group: this "
            "process's monitoring_workers and those started with `smartseoul monitoring worker` "
            "on other machines; a dead worker's cameras move to the others."
        ),
    )
    # --- end of monitoring settings ---
    log_json: bool = Field(False, title="JSON logs", description="Write logs as one JSON object per line.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", title="Log level", description="Lowest level of log lines written."
    )
    require_services: bool = Field(
        False,
        title="Require services in tests",
        description="Tests that need PostgreSQL, NATS, Mosquitto or Chromium fail instead of skipping.",
    )

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
        return value

    @field_validator("bus_url")
    @classmethod
    def _known_bus(cls, value: str) -> str:
        if not value.startswith(("memory://", "nats://", "tls://")):
            raise ValueError("use memory:// or nats://host:port")
        return value

    @field_validator("wifi_radius_clients")
    @classmethod
    def _networks(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (CIDR)") from None
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL with the embedded default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'smartseoul.db').as_posix()}"

    def effective_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


class SettingsError(SystemExit):
    """Raised (as exit code 2) when the environment holds an invalid setting."""


def describe_error(error: ValidationError) -> str:
    """One line per bad variable, named as the user typed it."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "?"
        lines.append(f"invalid setting {ENV_PREFIX}{field.upper()}: {item['msg']}")
    return "\n".join(lines)


def load_settings() -> Settings:
    """Read the environment; an invalid value stops the program with exit code 2."""
    try:
        return Settings()
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        raise SettingsError(2) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
