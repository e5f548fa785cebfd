"""Sounds made from numbers: street backgrounds, everyday loud noises, sirens and glass, and reverb.

Used three ways: as backgrounds and hard negatives (claps, doors, bag pops, footsteps) in training;
by the quick benchmark and the tests, which must not download anything; and by the simulator's
virtual microphones. Everything takes a :class:`numpy.random.Generator` so a seed reproduces it.
"""

from __future__ import annotations

import numpy as np

from smartseoul.safety.sound.features import SAMPLE_RATE, f32

Rng = np.random.Generator


def _lowpass(signal: np.ndarray, alpha: float) -> np.ndarray:
    """One-pole low-pass, vectorised through a cumulative trick-free loop over blocks (alpha in (0,1))."""
    from scipy.signal import lfilter

    return f32(lfilter([alpha], [1.0, alpha - 1.0], signal))


def _bandpass(signal: np.ndarray, low: float, high: float) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    high = min(high, SAMPLE_RATE / 2 * 0.95)
    sos = butter(2, [low, high], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return f32(sosfilt(sos, signal))


def normalise(signal: np.ndarray, dbfs: float) -> np.ndarray:
    """Scale to an RMS level in dBFS."""
    rms = float(np.sqrt(np.mean(np.square(signal, dtype=np.float64)))) or 1e-9
    return (signal * (10 ** (dbfs / 20) / rms)).astype(np.float32)


def background(rng: Rng, seconds: float, kind: str | None = None) -> np.ndarray:
    """A street-like background: traffic rumble, rain, wind or a murmur (RMS about -35 dBFS)."""
    n = int(seconds * SAMPLE_RATE)
    kind = kind or str(rng.choice(["traffic", "rain", "wind", "murmur", "hum"]))
    white = rng.standard_normal(n).astype(np.float32)
    if kind == "traffic":
        rumble = _lowpass(white, 0.01)
        swell = 1.0 + 0.6 * np.sin(2 * np.pi * rng.uniform(0.03, 0.2) * np.arange(n) / SAMPLE_RATE)
        out = rumble * swell + 0.05 * _lowpass(white, 0.2)
    elif kind == "rain":
        out = _bandpass(white, 800, 7000) * 0.5
        drops = rng.random(n) < 0.002
        out += _bandpass(drops * rng.standard_normal(n).astype(np.float32), 2000, 7000) * 3
    elif kind == "wind":
        gust = _lowpass(np.abs(rng.standard_normal(n)).astype(np.float32), 0.0005)
        out = _lowpass(white, 0.03) * (0.3 + gust)
    elif kind == "murmur":
        out = np.zeros(n, dtype=np.float32)
        for _ in range(6):
            envelope = _lowpass(np.abs(rng.standard_normal(n)).astype(np.float32), 0.002)
            out += _bandpass(white, rng.uniform(200, 500), rng.uniform(1200, 3000)) * envelope
    else:  # mains hum and a fan
        t = np.arange(n) / SAMPLE_RATE
        out = (
            0.3 * np.sin(2 * np.pi * 60 * t) + 0.1 * np.sin(2 * np.pi * 120 * t) + 0.2 * _lowpass(white, 0.05)
        )
    return normalise(out.astype(np.float32), rng.uniform(-45, -28))


def _decay(n: int, tau_s: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (tau_s * SAMPLE_RATE)).astype(np.float32)


def clap(rng: Rng) -> np.ndarray:
    """A hand clap: 5-15 ms of band-limited noise with a fast decay."""
    n = int(rng.uniform(0.04, 0.1) * SAMPLE_RATE)
    burst = _bandpass(rng.standard_normal(n).astype(np.float32), 600, 5000)
    return f32(burst * _decay(n, rng.uniform(0.005, 0.015)))


def door(rng: Rng) -> np.ndarray:
    """A door slam: a low thump with a click on top and a short rattle."""
    n = int(rng.uniform(0.3, 0.6) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    thump = np.sin(2 * np.pi * rng.uniform(50, 120) * t) * _decay(n, rng.uniform(0.04, 0.12))
    click = rng.standard_normal(n).astype(np.float32) * _decay(n, 0.003) * 0.5
    return f32(thump + click)


def bag_pop(rng: Rng) -> np.ndarray:
    """A plastic bag or balloon popping: a 1-3 ms broadband impulse (the classic gunshot confusion)."""
    n = int(rng.uniform(0.05, 0.15) * SAMPLE_RATE)
    burst = rng.standard_normal(n).astype(np.float32) * _decay(n, rng.uniform(0.001, 0.004))
    return _bandpass(burst, 150, 7500)


def footsteps(rng: Rng) -> np.ndarray:
    steps = int(rng.integers(2, 5))
    gap = int(rng.uniform(0.35, 0.6) * SAMPLE_RATE)
    out = np.zeros(gap * steps + 2000, dtype=np.float32)
    for index in range(steps):
        step = door(rng)[:1500] * 0.4
        out[index * gap : index * gap + step.size] += step
    return out


def horn(rng: Rng) -> np.ndarray:
    """A car horn: two steady tones with harmonics (a street sound, not a danger)."""
    n = int(rng.uniform(0.2, 0.8) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f = rng.uniform(350, 500)
    tone = np.zeros(n)
    for k in range(1, 6):
        tone += np.sin(2 * np.pi * f * k * t) / k
    tone += sum(np.sin(2 * np.pi * f * 1.26 * k * t) / k for k in range(1, 6))
    edge = np.minimum(1.0, np.minimum(t, t[::-1]) * 50)
    return f32(tone * edge)


HARD_NEGATIVES = {"clap": clap, "door": door, "bag_pop": bag_pop, "footsteps": footsteps, "horn": horn}


def siren(rng: Rng, seconds: float = 3.0) -> np.ndarray:
    """An emergency siren: wail, yelp or hi-lo, a square-ish tone through a horn speaker."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    style = rng.choice(["wail", "yelp", "hilo"])
    low, high = rng.uniform(500, 800), rng.uniform(1200, 1700)
    if style == "wail":
        rate = rng.uniform(0.2, 0.4)
        freq = low + (high - low) * (0.5 - 0.5 * np.cos(2 * np.pi * rate * t))
    elif style == "yelp":
        rate = rng.uniform(2.5, 4.0)
        freq = low + (high - low) * ((t * rate) % 1.0)
    else:
        rate = rng.uniform(0.8, 1.5)
        freq = np.where(((t * rate) % 1.0) < 0.5, high * 0.8, low * 1.2)
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in (1, 3, 5, 7))
    return np.tanh(2 * tone).astype(np.float32)


def glass(rng: Rng) -> np.ndarray:
    """Breaking glass: a sharp crack, then many short bright rings and tinkles over half a second."""
    n = int(rng.uniform(0.6, 1.0) * SAMPLE_RATE)
    out = np.zeros(n, dtype=np.float32)
    crack = rng.standard_normal(n).astype(np.float32) * _decay(n, rng.uniform(0.008, 0.02))
    out += _bandpass(crack, 1500, 7800)
    t_all = np.arange(n) / SAMPLE_RATE
    for _ in range(int(rng.integers(15, 40))):
        start = int(min(rng.exponential(0.12), 0.7) * SAMPLE_RATE)
        if start >= n:
            continue
        t = t_all[: n - start]
        ring = np.zeros(t.size, dtype=np.float32)
        base = rng.uniform(2500, 7500)
        for ratio in (1.0, rng.uniform(1.4, 2.2)):
            ring += np.sin(2 * np.pi * min(base * ratio, 7800) * t).astype(np.float32)
        out[start:] += ring * _decay(t.size, rng.uniform(0.01, 0.06)) * rng.uniform(0.1, 0.6)
    return out


def scream(rng: Rng, seconds: float = 1.2) -> np.ndarray:
    """A synthetic scream (simulator only; the model learns real ones): a high, rough, vibrating voice."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f0 = rng.uniform(700, 1200) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(5, 8) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) * (0.8**k) for k in range(1, 8))
    rough = _bandpass(rng.standard_normal(n).astype(np.float32), 1000, 5000) * 0.3
    edge = np.minimum(1.0, np.minimum(t, t[::-1]) * 10)
    return f32((voice + rough) * edge)


def reverberate(
    rng: Rng, signal: np.ndarray, rt60_s: float | None = None, wet: float | None = None
) -> np.ndarray:
    """Convolve with a synthetic room (exponentially decaying noise), mixed with the dry sound."""
    rt60 = rt60_s if rt60_s is not None else float(rng.uniform(0.15, 0.9))
    wet = wet if wet is not None else float(rng.uniform(0.1, 0.5))
    n = int(rt60 * SAMPLE_RATE)
    impulse = rng.standard_normal(n).astype(np.float32) * np.exp(-6.9 * np.arange(n) / n).astype(np.float32)
    impulse /= float(np.sqrt(np.sum(impulse**2))) or 1.0
    tail = np.fft.irfft(
        np.fft.rfft(signal, signal.size + n) * np.fft.rfft(impulse, signal.size + n), signal.size + n
    )[: signal.size]
    return ((1 - wet) * signal + wet * tail).astype(np.float32)


def mix_at_snr(background_audio: np.ndarray, event: np.ndarray, snr_db: float, offset: int) -> np.ndarray:
    """Add ``event`` at ``offset`` so its active part is ``snr_db`` above the background's RMS."""
    out = background_audio.astype(np.float32).copy()
    end = min(out.size, offset + event.size)
    piece = event[: end - offset]
    if piece.size == 0:
        return out
    active = piece[np.abs(piece) > 0.05 * (np.abs(piece).max() or 1.0)]
    event_rms = float(np.sqrt(np.mean(np.square(active, dtype=np.float64)))) if active.size else 1e-9
    bg_rms = float(np.sqrt(np.mean(np.square(out, dtype=np.float64)))) or 1e-4
    gain = bg_rms * 10 ** (snr_db / 20) / max(event_rms, 1e-9)
    out[offset:end] += piece * gain
    return out
