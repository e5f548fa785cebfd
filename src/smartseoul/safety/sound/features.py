"""Log-mel features in plain NumPy, shared by training and the runtime so both see the same numbers.

Audio is 16 kHz mono float32 in [-1, 1]. A 1 s window gives 97 frames (32 ms, every 10 ms) of a
64-band log-mel spectrogram; the classifier does not see the raw spectrogram but a fixed-length summary of it
(per-band mean, spread, peak and change, the band shape in four time slices, and a few frame
statistics such as crest and onset strength). That summary is what lets a tiny NumPy MLP run
hundreds of windows per second on one core, and it is level-normalised so a quiet scream and a
loud one look alike (the absolute level is one feature among many, never the whole story).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
WINDOW_S = 1.0
WINDOW = int(SAMPLE_RATE * WINDOW_S)
N_FFT = 512
HOP = 160
N_MELS = 64
F_MIN = 60.0
F_MAX = 7_800.0
SLICES = 4
COARSE_BANDS = 16
EPS = 1e-10


def f32(values: Any) -> np.ndarray:
    """Any array-like as float32 (and typed as an array for the checker)."""
    return np.asarray(values, dtype=np.float32)


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


@lru_cache(maxsize=1)
def mel_filterbank() -> np.ndarray:
    """Triangular HTK-style filters, shape (N_FFT // 2 + 1, N_MELS), computed once."""
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(F_MIN), _hz_to_mel(F_MAX), N_MELS + 2))
    bank = np.zeros((bins.size, N_MELS), dtype=np.float32)
    for band in range(N_MELS):
        low, centre, high = edges[band], edges[band + 1], edges[band + 2]
        rising = (bins - low) / max(centre - low, 1e-6)
        falling = (high - bins) / max(high - centre, 1e-6)
        bank[:, band] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


@lru_cache(maxsize=1)
def _sparse_bank() -> Any:
    """The filterbank as a sparse matrix: each FFT bin feeds at most two bands, and a sparse
    product stays on one thread (a dense BLAS product of this size spins up every core and
    costs five times the CPU on a busy machine)."""
    from scipy import sparse

    return sparse.csr_matrix(mel_filterbank().T)


def mel_power(power: np.ndarray) -> np.ndarray:
    """Mel-band power (frames, N_MELS) of a power spectrogram (frames, N_FFT // 2 + 1)."""
    bank = _sparse_bank()
    return f32((bank @ power.T).T)


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    return np.hanning(N_FFT).astype(np.float32)


def frames(audio: np.ndarray) -> np.ndarray:
    """Overlapping frames (count, N_FFT) of a 1-D signal, as a strided view (no copy)."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if audio.size < N_FFT:
        audio = np.pad(audio, (0, N_FFT - audio.size))
    count = 1 + (audio.size - N_FFT) // HOP
    return np.lib.stride_tricks.as_strided(
        audio, shape=(count, N_FFT), strides=(audio.strides[0] * HOP, audio.strides[0]), writeable=False
    )


def power_spectrogram(audio: np.ndarray) -> np.ndarray:
    spectrum = np.fft.rfft(frames(audio) * _hann(), axis=1)
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Log-mel spectrogram (frames, N_MELS) in natural-log power."""
    return np.log(mel_power(power_spectrogram(audio)) + EPS)


def rms_dbfs(audio: np.ndarray) -> float:
    """Root-mean-square level in dB relative to full scale (a full-scale sine is about -3 dBFS)."""
    if audio.size == 0:
        return -120.0
    value = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return 20.0 * float(np.log10(max(value, 1e-6)))


def clipped_fraction(audio: np.ndarray, level: float = 0.999) -> float:
    """Share of samples at full scale: a saturated microphone, not a louder event."""
    if audio.size == 0:
        return 0.0
    return float(np.mean(np.abs(audio) >= level))


def _frame_stats(audio: np.ndarray, power: np.ndarray, mel: np.ndarray) -> np.ndarray:
    """Shape of the window in time and spectrum: what separates a bang from a wail from a hiss."""
    energy = np.log(power.sum(axis=1) + EPS)
    peak_e, mean_e = float(energy.max()), float(energy.mean())
    onset = np.diff(energy, prepend=energy[0])
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE).astype(np.float32)
    total = power.sum(axis=1) + EPS
    centroid = (power @ freqs) / total / SAMPLE_RATE
    spread = np.sqrt(np.maximum((power @ (freqs**2)) / total / SAMPLE_RATE**2 - centroid**2, 0.0))
    flatness = np.exp(np.mean(np.log(power + EPS), axis=1)) / (np.mean(power, axis=1) + EPS)
    signs = np.signbit(audio)
    zcr = float(np.mean(signs[1:] != signs[:-1])) if audio.size > 1 else 0.0
    peak_frame = int(np.argmax(energy))
    loud = energy > peak_e - 3.0
    # tonality: how much of each frame's energy sits in its strongest mel band (sirens, voices)
    mel_lin = np.exp(mel)
    tonal = mel_lin.max(axis=1) / (mel_lin.sum(axis=1) + EPS)
    pitch_track = np.argmax(mel, axis=1).astype(np.float32) / N_MELS
    return np.array(
        [
            peak_e - mean_e,
            float(energy.std()),
            float(onset.max()),
            float(np.abs(onset).mean()),
            float(centroid.mean()),
            float(centroid.std()),
            float(spread.mean()),
            float(flatness.mean()),
            float(flatness.min()),
            zcr,
            float(loud.mean()),
            peak_frame / max(energy.size - 1, 1),
            float(tonal.mean()),
            float(tonal.max()),
            float(pitch_track.std()),
            float(np.abs(np.diff(pitch_track)).mean()) if pitch_track.size > 1 else 0.0,
            (rms_dbfs(audio) + 60.0) / 60.0,
            clipped_fraction(audio) * 10.0,
        ],
        dtype=np.float32,
    )


def window_features(audio: np.ndarray) -> np.ndarray:
    """The fixed-length feature vector of one window (any length; 1 s is what the model was trained on)."""
    audio = np.asarray(audio, dtype=np.float32)
    power = power_spectrogram(audio)
    mel = np.log(mel_power(power) + EPS)
    level = float(mel.mean())
    norm = mel - level  # level-normalised band shape
    delta = np.abs(np.diff(norm, axis=0)) if norm.shape[0] > 1 else np.zeros_like(norm)
    coarse = norm.reshape(norm.shape[0], COARSE_BANDS, N_MELS // COARSE_BANDS).mean(axis=2)
    slices = np.array_split(coarse, SLICES, axis=0)
    sliced = np.concatenate([part.mean(axis=0) for part in slices])
    parts = [
        norm.mean(axis=0),
        norm.std(axis=0),
        norm.max(axis=0),
        delta.mean(axis=0),
        sliced,
        _frame_stats(audio, power, mel),
    ]
    return np.concatenate(parts).astype(np.float32)


FEATURE_SIZE = N_MELS * 4 + COARSE_BANDS * SLICES + 18
