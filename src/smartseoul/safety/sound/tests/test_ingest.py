"""Audio in: PCM packets (torn, oversize, any rate), camera audio through PyAV from a file and over
HTTP, and the features the model sees (level-normalised, same for every input rate)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from smartseoul.safety.sound.features import FEATURE_SIZE, SAMPLE_RATE, log_mel, rms_dbfs, window_features
from smartseoul.safety.sound.ingest import BadAudio, Resampler, av_chunks, pcm_s16le, to_16k
from smartseoul.safety.sound.tests.helpers import pcm, tone


def dominant_hz(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(audio.size, 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def test_a_torn_packet_loses_only_its_last_byte_and_is_counted() -> None:
    samples, corrupt = pcm_s16le(pcm(tone(1000, 0.01)) + b"\x7f")
    assert corrupt
    assert samples.size == 160
    samples, corrupt = pcm_s16le(b"")
    assert not corrupt
    assert samples.size == 0
    with pytest.raises(BadAudio, match="exceeds"):
        pcm_s16le(b"\0" * 10_000_000)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_any_device_rate_becomes_16k_in_packets_of_any_size(rate: int) -> None:
    audio = tone(1000, 1.0, rate=rate)
    resampler = Resampler(rate)
    packets = np.array_split(audio, 37)  # odd sizes, as a network delivers them
    out = np.concatenate([resampler.push(p) for p in packets])
    assert abs(out.size - SAMPLE_RATE) <= SAMPLE_RATE // 50
    assert dominant_hz(out[1000:15000]) == pytest.approx(1000, abs=5)
    with pytest.raises(BadAudio):
        to_16k(audio, 1_000_000)


def test_features_have_a_fixed_size_and_ignore_the_level() -> None:
    rng = np.random.default_rng(3)
    sound = (tone(800, 1.0) + 0.05 * rng.standard_normal(SAMPLE_RATE)).astype(np.float32)
    loud, quiet = window_features(sound), window_features(sound * 0.1)
    assert loud.shape == quiet.shape == (FEATURE_SIZE,)
    # everything but the absolute level is the same for a sound ten times quieter
    assert np.allclose(loud[:-2], quiet[:-2], atol=0.05)
    assert rms_dbfs(sound) - rms_dbfs(sound * 0.1) == pytest.approx(20.0, abs=0.01)
    assert log_mel(sound).shape == (97, 64)  # 32 ms frames every 10 ms


def _write_media(path: Path, rate: int, seconds: float) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "stereo"
        t = np.arange(int(rate * seconds)) / rate
        wave = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
        stereo = np.stack([wave, wave])
        for start in range(0, stereo.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(stereo[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_camera_audio_comes_through_pyav_from_a_file_and_over_http(http_folder: tuple[Path, str]) -> None:
    folder, base = http_folder
    _write_media(folder / "camera.m4a", 44100, 2.0)
    for source in (str(folder / "camera.m4a"), f"{base}/camera.m4a"):
        chunks = list(av_chunks(source, chunk_s=0.25))
        audio = np.concatenate(chunks)
        assert chunks[0].size == SAMPLE_RATE // 4
        assert abs(audio.size - 2 * SAMPLE_RATE) < SAMPLE_RATE // 5
        assert dominant_hz(audio[4000:20000]) == pytest.approx(1000, abs=5)


def test_a_source_without_audio_or_not_media_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a media file at all" * 100)
    with pytest.raises(BadAudio):
        list(av_chunks(str(junk)))
    with pytest.raises(BadAudio):
        list(av_chunks(str(tmp_path / "missing.wav")))
