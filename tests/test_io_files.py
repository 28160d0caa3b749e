"""Atomic writes: the file appears whole or not at all, and no temporary is left behind."""

from __future__ import annotations

import os

import pytest

from labeltools.io.files import TMP_PREFIX, atomic_path, atomic_write_bytes, atomic_write_text


def test_atomic_write_bytes_writes_and_replaces(tmp_path):
    target = tmp_path / "a.png"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(str(target), b"x" * 300_000)  # str paths too; larger than one write may take
    assert target.read_bytes() == b"x" * 300_000
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_atomic_write_bytes_file_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"1")
        with open(tmp_path / "b.bin", "wb") as f:
            f.write(b"1")
    finally:
        os.umask(old)
    assert (tmp_path / "a.bin").stat().st_mode == (tmp_path / "b.bin").stat().st_mode


def test_atomic_write_bytes_failure_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.png"
    target.write_bytes(b"old")

    def broken_write(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", broken_write)
    with pytest.raises(OSError, match="No space left on device"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_atomic_write_bytes_onto_a_folder_fails_cleanly(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        atomic_write_bytes(tmp_path / "d", b"x")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_atomic_path_and_text(tmp_path):
    with atomic_path(tmp_path / "t.txt") as tmp:
        assert tmp.name.startswith(TMP_PREFIX) and tmp.suffix == ".txt" and tmp.exists()
        tmp.write_text("a")
    atomic_write_text(tmp_path / "u.txt", "é\n")
    assert (tmp_path / "t.txt").read_text() == "a"
    assert (tmp_path / "u.txt").read_bytes() == "é\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt", "u.txt"]
