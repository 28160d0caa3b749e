"""The Dask backend on real clusters, on 127.0.0.1 only: outputs byte for byte as a local run.

Everything Dask runs in subprocesses (a ``python -c`` job, ``dask scheduler``,
``dask worker``, the CLI), as a user runs them: this test process starts no Dask
threads, so the local process pools of the other tests still fork.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from labeltools import json2voc, lblread, lblsave
from labeltools.cli import app

from .conftest import ROOT, SAMPLE_DATA

#: Copies of each sample_data file in the corpus: 5 x 30 = 150 labelme files.
COPIES = 30
TIMEOUT = 120


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, by relative path (json2voc's manifest included:
    it records each input's path, size and mtime, the same for both runs)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """200 labelme files, their local json2voc dataset, predictions, and local results."""
    pytest.importorskip("distributed")
    root = tmp_path_factory.mktemp("cluster")
    src = root / "labelme"
    src.mkdir()
    for json_path in sorted(SAMPLE_DATA.glob("*.json")):
        doc = json.loads(json_path.read_text())
        image = SAMPLE_DATA / doc["imagePath"]
        for k in range(COPIES):
            stem = f"{json_path.stem}_{k:03d}"
            shutil.copyfile(image, src / f"{stem}{image.suffix}")
            (src / f"{stem}.json").write_text(json.dumps({**doc, "imagePath": f"{stem}{image.suffix}"}))
    labels = str(SAMPLE_DATA / "labels.txt")
    local = root / "local"
    json2voc(src, local, labels, workers=2)
    pred = root / "pred"
    pred.mkdir()
    for png in sorted((local / "SegmentationClass").glob("*.png")):
        shifted = np.roll(lblread(png), 7, axis=1)  # a prediction a bit off, without void
        lblsave(pred / png.name, np.where(shifted == 255, 0, shifted).astype(np.uint8))
    trainval = local / "ImageSets" / "Segmentation" / "trainval.txt"
    return {"root": root, "src": src, "labels": labels, "local": local, "pred": pred,
            "trainval": trainval}


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labeltools", *args], cwd=cwd, env=_env(),
        capture_output=True, text=True, timeout=TIMEOUT,
    )


def _local_results(corpus: dict, out: Path) -> dict[str, str]:
    """eval --json and weights --out/--counts of the local run, via the CLI, as hashes."""
    out.mkdir(exist_ok=True)
    if not (out / "eval.json").is_file():
        for args in (
            ["eval", str(corpus["local"]), str(corpus["pred"]), "--list",
             str(corpus["trainval"]), "--json", str(out / "eval.json")],
            ["weights", str(corpus["local"]), "--out", str(out / "w.npy"),
             "--counts", str(out / "counts.json")],
        ):
            result = _cli(*args, "--workers", "2")
            assert result.returncode == 0, result.stderr
    return _tree(out)


def test_local_cluster_matches_the_local_run(corpus, tmp_path):
    """json2voc, eval and weights through one LocalCluster of 2 worker processes."""
    out = tmp_path / "dask"
    job = f"""
import json
from labeltools import engine, json2voc, evaluate, dataset_weights
from labeltools.weights import counts_to_json, save_weights
with engine.open_backend("local:2") as backend:
    assert backend.workers == 2
    json2voc({str(corpus["src"])!r}, {str(out / "voc")!r}, {corpus["labels"]!r}, backend=backend)
    done = []
    ev = evaluate({str(out / "voc")!r}, {str(corpus["pred"])!r},
                  ids={str(out / "voc/ImageSets/Segmentation/trainval.txt")!r}, backend=backend,
                  progress=lambda d, t: done.append((d, t)))
    w = dataset_weights({str(out / "voc")!r}, backend=backend)
    import dask
    quiet = sorted(backend.client.run(
        lambda: (dask.config.get("distributed.worker.profile.enabled"),
                 dask.config.get("distributed.admin.tick.interval"))).values())
print(json.dumps({{"eval": ev.to_dict(), "counts": counts_to_json(w.weights), "done": done,
                  "quiet": quiet}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", job], env=_env(), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert result.returncode == 0, result.stderr
    assert _tree(out / "voc") == _tree(corpus["local"])

    from labeltools import dataset_weights, evaluate
    from labeltools.weights import counts_to_json

    got = json.loads(result.stdout)
    # The workers labeltools starts run without distributed's 10 ms stack sampler.
    assert got["quiet"] == [[False, "1s"], [False, "1s"]]
    # Progress as chunks complete: from 0 to every id, in several steps, never backwards.
    steps = [d for d, _ in got["done"]]
    total = 5 * COPIES
    assert steps[0] == 0 and steps[-1] == total and steps == sorted(steps) and len(steps) > 3
    assert {t for _, t in got["done"]} == {total}
    trainval = corpus["local"] / "ImageSets/Segmentation/trainval.txt"
    ev = evaluate(corpus["local"], corpus["pred"], ids=trainval, workers=1).to_dict()
    ev["settings"]["gt"] = str(out / "voc")
    assert got["eval"] == json.loads(json.dumps(ev))
    assert got["counts"] == json.loads(json.dumps(counts_to_json(dataset_weights(corpus["local"]).weights)))


@pytest.fixture(scope="module")
def scheduler(corpus, tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes, as a user starts them."""
    logs = tmp_path_factory.mktemp("dask-logs")
    workdir = tmp_path_factory.mktemp("worker-cwd")  # not the client's: relative paths fail
    info = logs / "scheduler.json"
    procs: list[subprocess.Popen] = []

    def start(*args: str, log: str) -> subprocess.Popen:
        with open(logs / log, "w") as f:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dask", *args], env=_env(), cwd=workdir,
                stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
            )
        procs.append(proc)
        return proc

    def wait_for(check, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not check():
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                logs_text = "\n".join(p.read_text() for p in sorted(logs.glob("*.log")))
                raise AssertionError(f"{what} did not start:\n{logs_text}")
            time.sleep(0.05)

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(info), log="scheduler.log")
        wait_for(lambda: info.is_file() and info.stat().st_size > 0, "dask scheduler")
        time.sleep(0.1)  # the file is written in one go, but let it land
        address = json.loads(info.read_text())["address"]
        workers = [
            start("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                  "--host", "127.0.0.1", "--death-timeout", "60", log=f"worker{i}.log")
            for i in range(2)
        ]
        for i in range(2):
            log = logs / f"worker{i}.log"
            wait_for(lambda log=log: "Registered to" in log.read_text(), f"dask worker {i}")
        yield {"address": address, "workers": workers, "cwd": workdir}
    finally:
        # Nothing of theirs outlives the test (their scratch space is in a temp folder).
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def test_cli_on_a_running_cluster_matches_the_local_run(corpus, scheduler, tmp_path):
    address = scheduler["address"]
    voc = tmp_path / "voc"
    result = _cli("json2voc", str(corpus["src"]), str(voc), "--labels", corpus["labels"],
                  "--scheduler", address)
    assert result.returncode == 0, result.stderr
    assert _tree(voc) == _tree(corpus["local"])

    out = tmp_path / "results"
    out.mkdir()
    for args in (
        ["eval", str(corpus["local"]), str(corpus["pred"]), "--list", str(corpus["trainval"]),
         "--json", str(out / "eval.json")],
        ["weights", str(corpus["local"]), "--out", str(out / "w.npy"),
         "--counts", str(out / "counts.json")],
    ):
        result = _cli(*args, "--scheduler", address)
        assert result.returncode == 0, result.stderr
    assert _tree(out) == _local_results(corpus, corpus["root"] / "local-results")


def test_a_worker_that_cannot_see_the_input_is_named(corpus, scheduler):
    # The client runs beside the corpus; the workers in another folder: "labelme" is not theirs.
    result = _cli("json2voc", "labelme", "voc-relative", "--labels", corpus["labels"],
                  "--scheduler", scheduler["address"], cwd=corpus["root"])
    assert result.returncode == 1
    line = result.stderr.strip()
    assert line.startswith("Error: worker tcp://127.0.0.1:"), line
    assert line.endswith(
        f": cannot see labelme (relative to the worker's folder {scheduler['cwd']}; give absolute "
        "paths): no such file or folder on this worker"
    ), line
    assert not (corpus["root"] / "voc-relative").exists()


def _json2voc_on(scheduler: dict, corpus: dict, voc: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "labeltools", "json2voc", str(corpus["src"]), str(voc),
         "--labels", corpus["labels"], "--scheduler", scheduler["address"]],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for_outputs(job: subprocess.Popen, voc: Path, n: int = 10) -> None:
    written = voc / "SegmentationClass"
    deadline = time.monotonic() + TIMEOUT
    while not (written.is_dir() and len(os.listdir(written)) >= n):
        assert job.poll() is None, job.communicate()
        assert time.monotonic() < deadline, "json2voc wrote nothing"
        time.sleep(0.01)


def test_killing_the_client_then_rerunning_resumes(corpus, scheduler, tmp_path):
    voc = tmp_path / "voc"
    journal = voc / ".labeltools-json2voc" / "journal.jsonl"
    job = _json2voc_on(scheduler, corpus, voc)
    try:
        deadline = time.monotonic() + TIMEOUT
        # Killed once the client has journalled some chunks (the workers wrote more by then).
        while not (journal.is_file() and journal.read_text().count("\n") >= 10):
            assert job.poll() is None, job.communicate()
            assert time.monotonic() < deadline, "json2voc journalled nothing"
            time.sleep(0.01)
        job.kill()
    finally:
        job.communicate(timeout=TIMEOUT)
    assert len(os.listdir(voc / "SegmentationClass")) < 5 * COPIES  # killed mid-run
    rerun = _cli("json2voc", str(corpus["src"]), str(voc), "--labels", corpus["labels"],
                 "--scheduler", scheduler["address"], "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["skipped"] > 0  # the journal's files were not redone
    assert _tree(voc) == _tree(corpus["local"])


def test_killing_a_worker_mid_run_still_gives_identical_outputs(corpus, scheduler, tmp_path):
    """Last test of the module: it leaves the cluster with one worker."""
    voc = tmp_path / "voc"
    job = _json2voc_on(scheduler, corpus, voc)
    try:
        victim = scheduler["workers"][0]
        _wait_for_outputs(job, voc)
        os.killpg(victim.pid, signal.SIGKILL)
        killed_mid_run = job.poll() is None
        stdout, stderr = job.communicate(timeout=TIMEOUT)
    finally:
        if job.poll() is None:
            job.kill()
            job.communicate()
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert killed_mid_run
    assert job.returncode == 0, stderr
    assert _tree(voc) == _tree(corpus["local"])


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    (tmp_path / "gt").mkdir()
    lblsave(tmp_path / "gt" / "a.png", np.zeros((2, 2), np.uint8))
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "gt"), str(tmp_path / "gt"),
                                      "--num-classes", "2", "--scheduler", "local:2"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: the Dask backend needs dask and distributed: pip install 'labeltools[dask]'"
    )


def test_a_bad_scheduler_value_is_one_line(tmp_path):
    (tmp_path / "gt").mkdir()
    lblsave(tmp_path / "gt" / "a.png", np.zeros((2, 2), np.uint8))
    for value, message in (
        ("bogus", "Error: backend 'bogus': expected a Dask scheduler address ('tcp://host:8786'), "
                  "'local' or 'local:N'"),
        ("local:0", "Error: backend 'local:0': expected 'local' or 'local:N' with N >= 1 workers"),
    ):
        result = CliRunner().invoke(app, ["eval", str(tmp_path / "gt"), str(tmp_path / "gt"),
                                          "--num-classes", "2", "--scheduler", value])
        assert result.exit_code == 1
        assert result.output.strip().splitlines()[-1] == message
