"""Old labelme scripts, their labelme import line(s) changed to labeltools.compat, write the
bytes labelme itself writes. labelme (an old release from PyPI) is the oracle: each script
runs twice in the same environment, once as it is, once changed and with labelme blocked.

The scripts: labelme's own ``labelme_json_to_dataset`` (``labelme/cli/json_to_dataset.py``,
read from the installed labelme), and labelme's example ``labelme2voc.py`` scripts for
semantic and instance segmentation. Those examples are not in any PyPI package and, being
GPL, are not copied into this repository: the tests read them from
``LABELTOOLS_LABELME_SCRIPTS`` (default ``../shared/fixtures/labelme_scripts``) and skip,
saying so, where they are absent.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT, SAMPLE_DATA, SHARED
from .conftest import INTEROP, copy_labelme_subset

pytestmark = INTEROP


def _labelme() -> tuple[str, Path] | None:
    spec = importlib.util.find_spec("labelme")
    if spec is None or not spec.submodule_search_locations:
        return None
    return importlib.metadata.version("labelme"), Path(list(spec.submodule_search_locations)[0])


LABELME = _labelme()
if LABELME is None:
    pytest.skip(
        "labelme is not installed: the oracle is an old labelme from PyPI, installed in "
        "its own interop venv by .ci/run",
        allow_module_level=True,
    )
VERSION, PACKAGE = LABELME
MAJOR = int(VERSION.split(".")[0])
SCRIPTS_DIR = Path(
    os.environ.get("LABELTOOLS_LABELME_SCRIPTS") or SHARED / "fixtures" / "labelme_scripts"
)

#: Shape types this labelme rasterises: "mask" came with 5.3 (json_to_dataset left in
#: 5.5), "oriented_rectangle" with 6. sample_data files using others are left out.
OLD_SHAPES = ("polygon", "rectangle", "circle", "line", "linestrip", "point")
_RELEASE = tuple(int(p) for p in VERSION.split(".")[:2])
SHAPES = (*OLD_SHAPES, "mask") if _RELEASE >= (5, 3) else OLD_SHAPES

#: Runs a script as __main__ with every labelme import failing: the changed script must
#: not need labelme.
BLOCKED = (
    "import runpy, sys\n"
    "sys.modules['labelme'] = None\n"
    "script = sys.argv.pop(1)\n"
    "sys.argv[0] = script\n"
    "runpy.run_path(script, run_name='__main__')\n"
)


def _utils_line() -> str:
    if MAJOR == 3:
        return "from labeltools.compat import labelme3 as utils"
    return "from labeltools.compat import utils"


def _changed(text: str, changes: dict[str, str]) -> str:
    for old, new in changes.items():
        lines = [line for line in text.splitlines() if line == old]
        assert len(lines) == 1, f"expected the line {old!r} once in the script"
        text = text.replace(old + "\n", new + "\n")
    return text


def _run(argv: list[str], cwd: Path, blocked: bool) -> None:
    cmd = [sys.executable, "-c", BLOCKED, *argv] if blocked else [sys.executable, *argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "agg", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_same_bytes(oracle: Path, ours: Path) -> int:
    want, got = _tree(oracle), _tree(ours)
    assert sorted(got) == sorted(want)
    different = [name for name in want if want[name] != got[name]]
    assert not different, f"files differ from labelme {VERSION}'s: {different}"
    return len(want)


@pytest.fixture(params=["sample_data", "labelme_semantic"])
def inputs(request, tmp_path) -> tuple[Path, Path]:
    """(folder of labelme JSON + images, labels.txt) that this labelme version can read."""
    if request.param == "sample_data":
        src, labels = SAMPLE_DATA, SAMPLE_DATA / "labels.txt"
    else:
        fixture = request.getfixturevalue("shared_fixture")
        src, labels = fixture / "data_annotated", fixture / "labels.txt"
    stems = copy_labelme_subset(src, tmp_path / "in", SHAPES)
    assert stems, f"no file of {src} is readable by labelme {VERSION}"
    return tmp_path / "in", labels


def test_json_to_dataset(inputs, tmp_path):
    in_dir, _ = inputs
    script = PACKAGE / "cli" / "json_to_dataset.py"
    if not script.is_file():
        pytest.skip(f"labelme {VERSION} has no cli/json_to_dataset.py")
    changed = tmp_path / "json_to_dataset_compat.py"
    changed.write_text(
        _changed(
            script.read_text(encoding="utf-8"),
            {
                "from labelme import utils": _utils_line(),
                "from labelme.logger import logger": "from labeltools.compat import logger",
            },
        ),
        encoding="utf-8",
    )
    (tmp_path / "oracle").mkdir()
    (tmp_path / "ours").mkdir()
    for path in sorted(in_dir.glob("*.json")):
        _run([str(script), str(path), "-o", str(tmp_path / "oracle" / path.stem)], tmp_path, False)
        _run([str(changed), str(path), "-o", str(tmp_path / "ours" / path.stem)], tmp_path, True)
    assert _assert_same_bytes(tmp_path / "oracle", tmp_path / "ours") >= 4


#: Example script -> (labelme major versions it was written for, argv builder). The 4.x
#: script calls imgviz.label2rgb(img=...), which only imgviz < 1.3 had, and those need
#: Pillow < 10: its picture (imgviz's, not labelme's) is left out with its own --noviz.
EXAMPLES = {
    "semantic_labelme2voc_4x.py": (
        (4,), lambda i, o, lab: [str(i), str(o), "--labels", str(lab), "--noviz"]
    ),
    "semantic_labelme2voc_5x.py": ((5,), lambda i, o, lab: [str(i), str(o), "--labels", str(lab)]),
    "instance_labelme2voc_3x.py": ((3,), lambda i, o, lab: [str(lab), str(i), str(o)]),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_labelme2voc_example(name, inputs, tmp_path):
    majors, argv = EXAMPLES[name]
    if MAJOR not in majors:
        pytest.skip(f"{name} is a labelme {'/'.join(f'{m}.x' for m in majors)} script; this is {VERSION}")
    script = SCRIPTS_DIR / name
    if not script.is_file():
        pytest.skip(
            f"{script} not found: labelme's example scripts are on no package index and, GPL, "
            "not copied into this repository (set LABELTOOLS_LABELME_SCRIPTS)"
        )
    in_dir, labels = inputs
    changed = tmp_path / name
    changed.write_text(
        _changed(script.read_text(encoding="utf-8"), {"import labelme": "import labeltools.compat as labelme"}),
        encoding="utf-8",
    )
    _run([str(script), *argv(in_dir, tmp_path / "oracle", labels)], tmp_path, False)
    _run([str(changed), *argv(in_dir, tmp_path / "ours", labels)], tmp_path, True)
    assert _assert_same_bytes(tmp_path / "oracle", tmp_path / "ours") >= 3
