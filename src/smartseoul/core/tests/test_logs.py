"""Logs are readable by people and, with SMARTSEOUL_LOG_JSON=1, by machines."""

from __future__ import annotations

import json
import logging

import pytest

from smartseoul.core.logs import JsonFormatter


def test_json_lines_carry_level_logger_message_and_extra_fields() -> None:
    record = logging.LogRecord(
        "smartseoul.tracking",
        logging.WARNING,
        __file__,
        1,
        "frame dropped from %s",
        ("861234567890123",),
        None,
    )
    record.device = "861234567890123"
    record.offset = 17
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning"
    assert line["logger"] == "smartseoul.tracking"
    assert line["message"] == "frame dropped from 861234567890123"
    assert (line["device"], line["offset"]) == ("861234567890123", 17)
    assert line["time"].endswith("+00:00")


def test_exceptions_are_kept_in_one_line() -> None:
    try:
        raise ValueError("bad checksum")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert "bad checksum" in json.loads(text)["exception"]


@pytest.mark.parametrize("value", ["1", "true"])
def test_the_setting_switches_json_on(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from smartseoul.core.settings import Settings

    monkeypatch.setenv("SMARTSEOUL_LOG_JSON", value)
    assert Settings().log_json is True
