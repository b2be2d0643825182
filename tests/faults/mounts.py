"""Small real filesystems to break: a tmpfs to fill, an ext4 image to turn read-only.

A full disk is a size-limited tmpfs filled with a filler file. A disk that "turns
read-only" under a running server cannot be made with ``mount -o remount,ro`` (the kernel
refuses while the server holds the database open for writing) nor with chmod (root, and
open descriptors keep working); it is made the way it happens in production: ext4 mounted
``errors=remount-ro`` hits a filesystem error (``/sys/fs/ext4/<dev>/trigger_fs_error``)
and the kernel forces it read-only. Mounting needs root; without it these tests fail.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def _run(*command: str, ok: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if done.returncode not in ok:
        pytest.fail(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}", pytrace=False)
    return done.stdout


def _require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("the disk fault tests mount filesystems: run make test-faults as root")


def _umount(path: Path) -> None:
    if subprocess.run(["mountpoint", "-q", str(path)]).returncode == 0:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextmanager
def small_tmpfs(size: str) -> Iterator[Path]:
    _require_root()
    mount_point = Path(tempfile.mkdtemp(prefix="chatkeep-faults-tmpfs-"))
    try:
        _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point))
        yield mount_point
    finally:
        _umount(mount_point)
        shutil.rmtree(mount_point, ignore_errors=True)


def fill(directory: Path) -> Path:
    """Write a filler file until the filesystem says ENOSPC; returns it (delete to free)."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    out.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


@dataclass(frozen=True)
class Ext4Image:
    image: Path
    mount_point: Path

    def mount(self) -> None:
        options = "loop,errors=remount-ro"
        _run("mount", "-o", options, str(self.image), str(self.mount_point))

    def device(self) -> str:
        return Path(_run("findmnt", "-no", "SOURCE", str(self.mount_point)).strip()).name

    def options(self) -> set[str]:
        return set(_run("findmnt", "-no", "OPTIONS", str(self.mount_point)).strip().split(","))

    def fail(self) -> None:
        """A filesystem error: with errors=remount-ro the kernel forces the mount read-only."""
        Path(f"/sys/fs/ext4/{self.device()}/trigger_fs_error").write_text("chatkeep fault test\n")

    def unmount_and_repair(self) -> str:
        """Unmount, then e2fsck as an operator would; returns fsck's report."""
        _run("umount", str(self.mount_point))
        return _run("e2fsck", "-fy", str(self.image), ok=(0, 1))


@contextmanager
def ext4_image(size_mb: int) -> Iterator[Ext4Image]:
    _require_root()
    base = Path(tempfile.mkdtemp(prefix="chatkeep-faults-ext4-"))
    disk = Ext4Image(base / "disk.img", base / "mnt")
    disk.mount_point.mkdir()
    try:
        with disk.image.open("wb") as image:
            image.truncate(size_mb << 20)
        _run("mkfs.ext4", "-q", "-F", str(disk.image))
        disk.mount()
        yield disk
    finally:
        _umount(disk.mount_point)
        shutil.rmtree(base, ignore_errors=True)
