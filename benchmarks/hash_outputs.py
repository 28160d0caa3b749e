"""Hash every output of every labeltools command, to prove a refactor changes no byte.

    python benchmarks/hash_outputs.py OUT.json --corpus DIR   # in each checkout, the same DIR
    python benchmarks/hash_outputs.py --compare BEFORE.json AFTER.json

Runs ``python -m labeltools`` (the checkout in the current folder first on sys.path) on fixed
inputs: sample_data, seeded corpora made by the benchmarks' own generators (in ``--corpus DIR``,
made there once and reused, so two checkouts hash the same inputs; default: a temporary folder),
and the shared labelme fixture when ``../shared`` (or ``$LABELTOOLS_SHARED``) has it. Records the
sha256 of every file written (json2voc's private records folder excluded, its manifest
normalised: no paths or mtimes; .xlsx by member, without zip timestamps) and each command's
stdout with temporary paths, timings and table widths normalised, plus the exit status. The
reshape of the package (issue 9) was checked with it: 34 entries, 0 differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE = (
    Path(os.environ.get("LABELTOOLS_SHARED") or HERE.parent.parent / "shared")
    / "fixtures" / "labelme_semantic"
)


def make_corpus(root: Path) -> Path:
    """The seeded inputs (60 labelme files, 40 eval pairs, 30 colour masks), made once in ``root``."""
    if (root / "done").is_file():
        return root
    sys.path.insert(0, str(HERE))
    import bench_eval
    import bench_json2voc
    import bench_masks

    bench_json2voc.make_corpus(root / "j2v", 60)
    bench_eval.make_corpus(root / "eval", 40)
    bench_masks.make_corpus(root / "masks", 30)
    (root / "done").write_text("")
    return root


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path, tmp: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        if rel.startswith(".labeltools-") and "/" in rel:
            if rel.endswith("manifest.json"):
                doc = json.loads(p.read_text())
                for rec in doc.values():
                    rec.pop("json", None)
                    rec.pop("image", None)
                out[rel] = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
            continue
        if p.suffix == ".xlsx":
            out[rel] = _xlsx_sha(p, tmp)
        elif p.name == "data.yaml":  # holds the output folder's absolute path
            out[rel] = hashlib.sha256(p.read_bytes().replace(str(tmp).encode(), b"<TMP>")).hexdigest()
        else:
            out[rel] = _sha(p)
    return out


def _xlsx_sha(path: Path, tmp: Path) -> str:
    """An .xlsx is a zip: hash its members' bytes (not zip timestamps), docProps dates blanked."""
    import zipfile

    h = hashlib.sha256()
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            data = z.read(name)
            if name.startswith("docProps/"):
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ?", b"<DATE>", data)
            data = data.replace(str(tmp).encode(), b"<TMP>")
            h.update(name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def _strip_seconds(obj):
    if isinstance(obj, dict):
        return {k: _strip_seconds(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_strip_seconds(v) for v in obj]
    return obj


def _norm(text: str, tmp: Path, cwd: Path) -> str:
    text = text.replace(str(tmp), "<TMP>").replace(str(cwd), "<CWD>")
    try:
        return json.dumps(_strip_seconds(json.loads(text)), sort_keys=True)
    except ValueError:
        text = re.sub(r"\d+(\.\d+)? ?(s|ms)\b", "<T>", text)
        # Human tables: column widths follow path lengths, which differ between checkouts.
        text = re.sub(r"[ \u2500\u2501]+", " ", text)
        text = re.sub(r"\d+(\.\d+)? (files|images|masks|labels|pairs)/s", "<RATE>", text)
        return text


def main() -> int:
    if sys.argv[1] == "--compare":
        a = json.loads(Path(sys.argv[2]).read_text())
        b = json.loads(Path(sys.argv[3]).read_text())
        bad = 0
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                bad += 1
                va, vb = a.get(key), b.get(key)
                if isinstance(va, dict) and isinstance(vb, dict):
                    diff = sorted(k for k in set(va) | set(vb) if va.get(k) != vb.get(k))
                    print(f"DIFF {key}: {diff[:20]}")
                    for k in diff[:3]:
                        print(f"   {k}:\n     A {str(va.get(k))[:400]}\n     B {str(vb.get(k))[:400]}")
                else:
                    print(f"DIFF {key}: A={str(va)[:300]} B={str(vb)[:300]}")
        print(f"{len(set(a) | set(b))} entries, {bad} differ")
        return 1 if bad else 0

    out_json = Path(sys.argv[1])
    corpus_arg = sys.argv[sys.argv.index("--corpus") + 1] if "--corpus" in sys.argv else None
    cwd = Path.cwd()
    env = dict(os.environ, PYTHONPATH=str(cwd), COLUMNS="100", NO_COLOR="1", TERM="dumb")
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="hash-") as t:
        tmp = Path(t)
        CORPUS = make_corpus(Path(corpus_arg) if corpus_arg else tmp / "corpus")  # noqa: N806

        def cli(name: str, *args: str, tree: str | None = None) -> None:
            proc = subprocess.run(
                [sys.executable, "-m", "labeltools", *map(str, args)],
                cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            )
            entry = {"rc": proc.returncode, "stdout": _norm(proc.stdout, tmp, cwd)}
            if proc.returncode:
                entry["stderr"] = _norm(proc.stderr, tmp, cwd)
            if tree is not None:
                entry["files"] = _tree(tmp / tree, tmp) if (tmp / tree).exists() else None
            results[name] = entry

        sd, sl = cwd / "sample_data", cwd / "sample_data" / "labels.txt"
        cj, cl = CORPUS / "j2v", CORPUS / "j2v" / "labels.txt"
        cli("j2v-sample", "json2voc", sd, tmp / "s1", "--labels", sl, "--json", tree="s1")
        cli("j2v-sample-rerun", "json2voc", sd, tmp / "s1", "--labels", sl, "--json", tree="s1")
        cli("j2v-sample-npy-viz", "json2voc", sd, tmp / "s2", "--labels", sl, "--npy", "--viz", tree="s2")
        cli("j2v-sample-noobject", "json2voc", sd, tmp / "s3", "--labels", sl, "--noobject", tree="s3")
        cli("j2v-sample-discover", "json2voc", sd, tmp / "s4", "--json", tree="s4")
        cli("j2v-corpus", "json2voc", cj, tmp / "c1", "--labels", cl, "--json", tree="c1")
        cli("j2v-corpus-npy-viz", "json2voc", cj, tmp / "c2", "--labels", cl, "--npy", "--viz", tree="c2")
        cli("j2v-corpus-noobject", "json2voc", cj, tmp / "c3", "--labels", cl, "--noobject", tree="c3")
        cli("j2v-corpus-j1", "json2voc", cj, tmp / "c4", "--labels", cl, "-j", "1", tree="c4")
        cli("j2v-corpus-human", "json2voc", cj, tmp / "c5", "--labels", cl, "--val-ratio", "0.3", "--seed", "7")
        if FIXTURE.is_dir():
            cli("j2v-fixture", "json2voc", FIXTURE / "data_annotated", tmp / "f1",
                "--labels", FIXTURE / "labels.txt", "--npy", "--json", tree="f1")
        # exports, and back to labelme
        cli("coco-sample", "json2coco", sd, tmp / "k1", "--labels", sl, "--json", tree="k1")
        cli("coco-sample-rle", "json2coco", sd, tmp / "k2", "--labels", sl, "--rle", tree="k2")
        cli("coco-corpus", "json2coco", cj, tmp / "k3", "--labels", cl, "--json", tree="k3")
        cli("yolo-sample", "json2yolo", sd, tmp / "y1", "--labels", sl, "--json", tree="y1")
        cli("yolo-corpus", "json2yolo", cj, tmp / "y2", "--labels", cl, "--json", tree="y2")
        cli("yolo-corpus-map", "json2yolo", cj, tmp / "y3", "--labels", cl, "--map", "cat=dog",
            "--map", "person=-", tree="y3")
        cli("voc2json-sample", "voc2json", tmp / "s1", tmp / "v1", tree="v1")
        cli("voc2json-corpus-poly", "voc2json", tmp / "c1", tmp / "v2", "--shape", "polygon", tree="v2")
        if FIXTURE.is_dir():
            cli("coco-fixture", "json2coco", FIXTURE / "data_annotated", tmp / "k4",
                "--labels", FIXTURE / "labels.txt", tree="k4")
            cli("yolo-fixture", "json2yolo", FIXTURE / "data_annotated", tmp / "y4",
                "--labels", FIXTURE / "labels.txt", tree="y4")
        # eval
        ed, ep = CORPUS / "eval" / "dataset", CORPUS / "eval" / "pred"
        (tmp / "ev").mkdir()
        cli("eval", "eval", ed, ep, "--json", tmp / "ev" / "e.json", "--csv", tmp / "ev" / "e.csv", tree="ev")
        cli("eval-human", "eval", ed, ep)
        cli("eval-sample", "eval", tmp / "s1", tmp / "s1" / "SegmentationClass")
        # weights / stats / check / split on json2voc outputs
        shutil.copytree(tmp / "c1", tmp / "w1")
        cli("weights", "weights", tmp / "w1", tree="w1")
        (tmp / "w2").mkdir()
        cli("weights-out", "weights", tmp / "c1", "--out", tmp / "w2" / "w.npy", "--counts",
            tmp / "w2" / "c.npy", "--method", "median-frequency", tree="w2")
        cli("weights-masks", "weights", CORPUS / "masks" / "SegmentationClass", "--num-classes", "21",
            "--out", tmp / "w2" / "m.npy")
        results["weights-masks-file"] = _sha(tmp / "w2" / "m.npy") if (tmp / "w2" / "m.npy").exists() else None
        cli("stats", "stats", tmp / "c1", "--json")
        cli("stats-human", "stats", tmp / "s1")
        (tmp / "pl").mkdir()
        cli("stats-plot", "stats", tmp / "s1", "--plot", tmp / "pl" / "s.png", tree="pl")
        cli("check", "check", tmp / "c1", "--json")
        cli("check-human", "check", tmp / "s2")
        shutil.copytree(tmp / "c1", tmp / "sp")
        cli("split", "split", tmp / "sp", "--val", "0.3", "--test", "0.2", "--seed", "3", "--overwrite", tree="sp")
        shutil.copytree(tmp / "c1", tmp / "sp2")
        cli("split-strat", "split", tmp / "sp2", "--val", "0.25", "--stratify", "--overwrite", tree="sp2")
        # masks
        cli("index2rgb", "index2rgb", tmp / "c1" / "SegmentationClass", tmp / "rgb", tree="rgb")
        cli("index2rgb-overlay", "index2rgb", tmp / "c1" / "SegmentationClass", tmp / "ov",
            "--images", tmp / "c1" / "JPEGImages", "--names", tmp / "c1" / "class_names.txt", tree="ov")
        cli("rgb2index", "rgb2index", CORPUS / "masks" / "rgb", tmp / "idx", tree="idx")
        cli("rgb2index-back", "rgb2index", tmp / "rgb", tmp / "idx2", tree="idx2")
        # inspect
        first = sorted((tmp / "s1" / "SegmentationClass").glob("*.png"))[0]
        (tmp / "x").mkdir()
        cli("dump-xlsx", "dump-xlsx", first, tmp / "x" / "d.xlsx", tree="x")
        cli("dump-xlsx-box", "dump-xlsx", first, tmp / "x" / "b.xlsx", "--box", "10,10,40,30",
            "--classes", tmp / "s1" / "class_names.txt", tree="x")
        cli("dump-csv", "dump-xlsx", first, tmp / "x" / "d.csv", "--csv", tree="x")
        (tmp / "cm").mkdir()
        cli("colormap", "colormap", tmp / "cm" / "c.png", "--n", "21", tree="cm")
        cli("colormap-names", "colormap", tmp / "cm" / "n.png", "--names", tmp / "s1" / "class_names.txt", tree="cm")
    out_json.write_text(json.dumps(results, indent=1, sort_keys=True))
    failed = [k for k, v in results.items() if isinstance(v, dict) and v.get("rc")]
    print(f"{len(results)} entries written to {out_json}; nonzero exit: {failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
