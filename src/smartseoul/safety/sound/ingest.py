"""Audio in: PCM s16le packets from bell microphones, camera stream audio via PyAV; all to 16 kHz mono.

A packet is checked before it costs anything: an odd byte count (a torn packet) loses its last byte
and is counted as corrupt, an empty or oversize one is dropped and counted, and any rate a device
claims within bounds is resampled, so a device configured for 44.1 or 8 kHz still works.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import gcd
from typing import IO, Any

import numpy as np

from smartseoul.safety.sound.features import SAMPLE_RATE, f32

MIN_RATE = 4_000
MAX_RATE = 192_000
MAX_PACKET_BYTES = 2 * 192_000 * 2  # two seconds at the highest rate


class BadAudio(ValueError):
    """A packet or stream that cannot be audio (the message says why)."""


def to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    """Resample mono float audio to 16 kHz (polyphase: cheap, no ringing at the window edges)."""
    if not MIN_RATE <= rate <= MAX_RATE:
        raise BadAudio(f"sample_rate {rate} outside {MIN_RATE}-{MAX_RATE} Hz")
    audio = np.asarray(audio, dtype=np.float32)
    if rate == SAMPLE_RATE or audio.size == 0:
        return audio
    from scipy.signal import resample_poly

    common = gcd(rate, SAMPLE_RATE)
    return f32(resample_poly(audio, SAMPLE_RATE // common, rate // common))


def pcm_s16le(payload: bytes, channels: int = 1) -> tuple[np.ndarray, bool]:
    """Decode s16le PCM to mono float32; returns (samples, was_corrupt). A torn trailing frame is
    cut off, so one bad packet never shifts every later sample by a byte."""
    if len(payload) > MAX_PACKET_BYTES:
        raise BadAudio(f"packet of {len(payload)} bytes exceeds {MAX_PACKET_BYTES}")
    frame = 2 * channels
    usable = len(payload) - len(payload) % frame
    corrupt = usable != len(payload)
    samples = np.frombuffer(payload[:usable], dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, corrupt


class Resampler:
    """Streaming rate conversion for one device; keeps a little history so packet edges stay clean."""

    def __init__(self, rate: int) -> None:
        if not MIN_RATE <= rate <= MAX_RATE:
            raise BadAudio(f"sample_rate {rate} outside {MIN_RATE}-{MAX_RATE} Hz")
        self.rate = rate
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        if self.rate == SAMPLE_RATE:
            return samples.astype(np.float32)
        # convert whole blocks of 1/50 s so the polyphase filter's phase stays aligned across packets
        block = self.rate // 50
        data = np.concatenate([self._pending, samples.astype(np.float32)])
        usable = data.size - data.size % block
        self._pending = data[usable:]
        if usable == 0:
            return np.zeros(0, dtype=np.float32)
        return to_16k(data[:usable], self.rate)


def _frames_to_mono(frame: Any) -> np.ndarray:
    array = frame.to_ndarray()
    if array.dtype.kind == "i":
        scale = float(np.iinfo(array.dtype).max) + 1.0
        array = array.astype(np.float32) / scale
    array = array.astype(np.float32)
    if frame.format.is_planar:
        return f32(array.mean(axis=0) if array.ndim > 1 else array)
    channels = len(frame.layout.channels)
    return f32(array.reshape(-1, channels).mean(axis=1))


def av_chunks(source: str | IO[bytes], chunk_s: float = 0.25, **options: Any) -> Iterator[np.ndarray]:
    """The audio track of a file or stream URL (RTSP, HTTP, a file) as 16 kHz mono chunks.
    Video is never decoded; a stream without audio raises :class:`BadAudio`."""
    import av

    try:
        container = av.open(source, options=options or None)
    except (av.error.FFmpegError, OSError) as error:
        raise BadAudio(f"cannot open audio source: {error}") from error
    with container:
        if not container.streams.audio:
            raise BadAudio("the stream has no audio track")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        size = int(chunk_s * SAMPLE_RATE)
        buffer = np.zeros(0, dtype=np.float32)
        try:
            for packet in container.demux(stream):  # type: ignore[union-attr]
                for frame in packet.decode():
                    for out in resampler.resample(frame):
                        buffer = np.concatenate([buffer, _frames_to_mono(out)])
                while buffer.size >= size:
                    yield buffer[:size]
                    buffer = buffer[size:]
        except av.error.FFmpegError as error:  # a corrupt stream ends it; what came before counts
            if buffer.size:
                yield buffer
            raise BadAudio(f"audio stream broke off: {error}") from error
        if buffer.size:
            yield buffer


def decode_with_av(source: str | IO[bytes]) -> np.ndarray:
    """A whole file's audio at 16 kHz mono."""
    parts = list(av_chunks(source, chunk_s=10.0))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
