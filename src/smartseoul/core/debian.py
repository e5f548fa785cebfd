"""Files from Debian packages, fetched into the project's own cache (never installed system-wide).

The demo video (``opencv-doc``'s ``vtest.avi``) and the sound recordings of the danger-sound
recipe come from Debian packages. ``apt-get download`` needs no root and ``dpkg-deb`` unpacks one
member, so a fresh machine gets exactly the files the project names, and a second call is free.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


class DebianFetchError(RuntimeError):
    """A package could not be downloaded or does not hold the member asked for."""


def default_cache() -> Path:
    return Path("var") / "cache" / "debian"


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, check=True, timeout=600)  # noqa: S603 (fixed tools, our arguments)
    except FileNotFoundError as missing:
        raise DebianFetchError(f"{command[0]} is not on this machine (a Debian tool)") from missing
    except subprocess.CalledProcessError as failed:
        detail = failed.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise DebianFetchError(f"{' '.join(command)} failed: {detail[0]}") from failed


def download_deb(package: str, cache: Path | None = None) -> Path:
    """The package's ``.deb`` in ``cache/debs`` (downloaded once)."""
    folder = (cache or default_cache()) / "debs"
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    log.info("downloading Debian package %s", package)
    _run(["apt-get", "download", package], folder)
    found = sorted(folder.glob(f"{package}_*.deb"))
    if not found:
        raise DebianFetchError(f"apt-get download {package} left no .deb in {folder}")
    return found[-1]


def unpack(package: str, cache: Path | None = None) -> Path:
    """The package's whole file tree under ``cache/trees/PACKAGE`` (unpacked once)."""
    root = (cache or default_cache()) / "trees" / package
    if (root / ".complete").exists():
        return root
    deb = download_deb(package, cache)
    with tempfile.TemporaryDirectory(dir=root.parent if root.parent.exists() else None) as scratch:
        _run(["dpkg-deb", "-x", str(deb.resolve()), scratch], Path(scratch))
        if root.exists():
            shutil.rmtree(root)
        root.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(scratch, root)
    (root / ".complete").touch()
    return root


def fetch_file(package: str, member: str, cache: Path | None = None) -> Path:
    """One file of a package, such as opencv-doc's ``usr/share/doc/opencv-doc/examples/data/vtest.avi``.

    Only that member is extracted (``dpkg-deb --fsys-tarfile | tar -x``), so a large package costs
    its download and nothing more on disk.
    """
    relative = member.lstrip("./")
    target = (cache or default_cache()) / "files" / package / relative
    if target.is_file():
        return target
    deb = download_deb(package, cache)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    tarball = subprocess.Popen(  # noqa: S603
        ["dpkg-deb", "--fsys-tarfile", str(deb)],  # noqa: S607 (Debian tools on PATH)
        stdout=subprocess.PIPE,
    )
    try:
        extracted = subprocess.run(  # noqa: S603
            ["tar", "-xO", f"./{relative}"],  # noqa: S607
            stdin=tarball.stdout,
            capture_output=True,
            timeout=600,
        )
    finally:
        if tarball.stdout is not None:
            tarball.stdout.close()
        tarball.wait()
    if extracted.returncode != 0 or not extracted.stdout:
        raise DebianFetchError(f"{package} has no file {relative}")
    partial.write_bytes(extracted.stdout)
    partial.replace(target)
    return target
