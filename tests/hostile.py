"""Builders of bad and hostile inputs, shared by the catalogue, property and fault tests.

Everything here makes small files (32x24 images) so a test row costs milliseconds;
the hostile ones (decompression bombs) are a few hundred bytes that only *declare* a
huge size.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent

W, H = 32, 24
#: A size no reader may decode: 10^10 pixels, 56 times Pillow's decompression-bomb limit.
BOMB = 100_000
#: The largest side a JPEG header can declare.
JPEG_BOMB = 65_000
TMP_PREFIX = ".labeltools-tmp-"


# --------------------------------------------------------------------------- images

def photo(w: int = W, h: int = H, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def jpeg_bytes(w: int = W, h: int = H, seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo(w, h, seed)).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def png_bytes(arr: np.ndarray, mode: str | None = None, palette: bool = False) -> bytes:
    img = Image.fromarray(arr) if mode is None else Image.fromarray(arr, mode)
    if palette:
        from labeltools import label_colormap

        img = img.convert("L") if img.mode != "L" else img
        img = Image.frombytes("P", img.size, img.tobytes())
        img.putpalette(label_colormap(256).astype(np.uint8).tobytes())
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def label_png(values: np.ndarray) -> bytes:
    """A VOC label PNG (P mode, VOC palette) holding ``values``."""
    return png_bytes(values.astype(np.uint8), palette=True)


def png_bomb(w: int = BOMB, h: int = BOMB, colour_type: int = 3) -> bytes:
    """A valid-looking PNG whose header declares ``w`` x ``h`` (8-bit palette by default)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    body = chunk(b"IHDR", ihdr)
    if colour_type == 3:
        body += chunk(b"PLTE", bytes(range(256)) * 3)
    body += chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def jpeg_bomb(w: int = JPEG_BOMB, h: int = JPEG_BOMB) -> bytes:
    """A small JPEG whose SOF0 header is patched to declare ``w`` x ``h``."""
    data = bytearray(jpeg_bytes())
    i = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, h, w)
    return bytes(data)


def grey16_png(w: int = W, h: int = H) -> bytes:
    """A 16-bit greyscale PNG photo: a horizontal ramp over the whole 0..65535 range."""
    ramp = np.linspace(0, 65535, w).astype(np.uint16)
    arr = np.tile(ramp, (h, 1))
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------- labelme

def shape(label: str, points: Any = None, kind: str = "polygon", **extra: Any) -> dict[str, Any]:
    if points is None:
        points = [[2, 2], [20, 2], [20, 15], [2, 15]]
    return {"label": label, "points": points, "group_id": None, "shape_type": kind,
            "flags": {}, **extra}


def doc(stem: str, shapes: list[Any], w: int = W, h: int = H, image: str | None = "jpg",
        image_data: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "version": "5.4.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": f"{stem}.{image}" if image else None,
        "imageData": image_data,
        "imageHeight": h,
        "imageWidth": w,
        **extra,
    }


def write_doc(folder: Path, stem: str, shapes: list[Any] | None = None,
              image_bytes: bytes | None = None, ext: str = "jpg", **kw: Any) -> Path:
    """``folder/stem.json`` plus its image ``folder/stem.ext`` (a JPEG unless given)."""
    folder.mkdir(parents=True, exist_ok=True)
    if shapes is None:
        shapes = [shape("car")]
    d = doc(stem, shapes, image=ext, **kw)
    if image_bytes is None:
        image_bytes = jpeg_bytes(seed=len(stem))
    (folder / f"{stem}.{ext}").write_bytes(image_bytes)
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    return path


def corpus(folder: Path, n: int = 2, w: int = W, h: int = H) -> Path:
    """``n`` good labelme files a0.., labels car/person, one JPEG each."""
    for i in range(n):
        labels = ["car", "person"] if i % 2 else ["car"]
        shapes = [shape(lb, [[1 + 3 * k, 1], [w - 2, 1 + k], [w - 2, h - 2], [1, h - 2]])
                  for k, lb in enumerate(labels)]
        d = doc(f"a{i}", shapes, w=w, h=h)
        (folder).mkdir(parents=True, exist_ok=True)
        (folder / f"a{i}.jpg").write_bytes(jpeg_bytes(w, h, seed=i))
        (folder / f"a{i}.json").write_text(json.dumps(d), encoding="utf-8")
    return folder


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- state

def tree(root: Path) -> dict[str, str]:
    """Relative path -> content digest (or 'dir' / 'link -> target') of everything under root."""
    out: dict[str, str] = {}
    if not os.path.lexists(root):
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "link -> " + os.readlink(p)
            elif os.path.isdir(p):
                out[rel] = "dir"
            else:
                try:
                    with open(p, "rb") as fh:
                        out[rel] = hashlib.sha256(fh.read()).hexdigest()
                except OSError as exc:
                    out[rel] = f"unreadable {exc.errno}"
    return out


def temp_files(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            if name.startswith(TMP_PREFIX):
                found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(found)


# --------------------------------------------------------------------------- processes

#: Address space for a subprocess row: a reader that tries to decode a bomb dies of
#: MemoryError instead of taking the shared machine down.
MEMORY_LIMIT = 3 * 1024**3


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    # A shell starts background jobs with SIGINT ignored, and Python then keeps ignoring
    # it: the child gets the default, as a command typed at a terminal has.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["COLUMNS"] = "200"
    env.pop("FORCE_COLOR", None)
    env.update(extra)
    return env


def run_proc(args: list[str], cwd: Path | None = None, timeout: float = 60,
             limit_memory: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "labeltools", *args],
        cwd=cwd, env=cli_env(), capture_output=True, timeout=timeout,
        preexec_fn=_limit_memory if limit_memory else None,
    )


def popen(args: list[str], cwd: Path | None = None, **kw: Any) -> subprocess.Popen[bytes]:
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(
        [sys.executable, "-m", "labeltools", *args],
        cwd=cwd, env=cli_env(), preexec_fn=_limit_memory, **kw,
    )


# --------------------------------------------------------------------------- mounts

class Mounts:
    """tmpfs and read-only bind mounts for one test, unmounted at the end."""

    def __init__(self) -> None:
        self.points: list[Path] = []

    def _mount(self, args: list[str], point: Path) -> None:
        import pytest

        point.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", *args, str(point)], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount ({' '.join(args)}): {done.stderr.strip() or done.returncode}")
        self.points.append(point)

    def tmpfs(self, point: Path, size: str = "1m") -> Path:
        self._mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs"], point)
        return point

    def read_only(self, point: Path) -> Path:
        """Make the existing folder ``point`` read-only (a read-only bind mount over itself)."""
        import pytest

        self._mount(["--bind", str(point)], point)
        done = subprocess.run(["mount", "-o", "remount,bind,ro", str(point)], capture_output=True,
                              text=True)
        if done.returncode:
            pytest.skip(f"cannot remount read-only: {done.stderr.strip()}")
        return point

    def close(self) -> None:
        for point in reversed(self.points):
            subprocess.run(["umount", "-l", str(point)], capture_output=True)
        self.points.clear()


@contextlib.contextmanager
def mounts() -> Iterator[Mounts]:
    m = Mounts()
    try:
        yield m
    finally:
        m.close()
