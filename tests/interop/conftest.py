"""The interop tier: real third-party readers and writers run on labeltools' outputs.

Every test here is marked ``interop`` and skips, saying why, unless the package it
drives is importable: the normal suite stays fast and green without them. ``.ci/run``
builds one virtual environment per client (old labelme releases clash with each
other) and runs ``pytest -m interop tests/interop`` in each.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from labeltools import json2voc

from ..conftest import LABELME_FIXTURE, SAMPLE_DATA

#: Every interop module starts with ``pytestmark = INTEROP``: the marker, and third-party
#: packages' own warnings (old releases, deprecated APIs) are not errors here, as the
#: suite's warnings-as-errors is for labeltools' own code.
INTEROP = [pytest.mark.interop, pytest.mark.filterwarnings("ignore")]


def shape_types(path: Path) -> set[str]:
    return {s.get("shape_type") or "polygon" for s in json.loads(path.read_text())["shapes"]}


def copy_labelme_subset(src: Path, dst: Path, allowed: Iterable[str] | None = None) -> list[str]:
    """Copy ``src``'s labelme JSON files (and their images) whose shape types are all
    ``allowed`` into ``dst``; return their stems. Test inputs only, in a temporary folder."""
    dst.mkdir(parents=True, exist_ok=True)
    allowed = None if allowed is None else set(allowed)
    stems = []
    for path in sorted(src.glob("*.json")):
        if allowed is not None and not shape_types(path) <= allowed:
            continue
        shutil.copy2(path, dst / path.name)
        image = json.loads(path.read_text()).get("imagePath")
        if image and (src / image).is_file():
            shutil.copy2(src / image, dst / image)
        stems.append(path.stem)
    return stems


@pytest.fixture(scope="session")
def shared_fixture() -> Path:
    if not LABELME_FIXTURE.is_dir():
        pytest.skip(f"labelme fixture not found at {LABELME_FIXTURE} (only in the project workspace)")
    return LABELME_FIXTURE


#: The inputs every client test converts: sample_data (every shape type, an embedded
#: image, an EXIF-rotated photo, void) and labelme's own example dataset.
SOURCES = ("sample_data", "labelme_semantic")


def source_paths(name: str, shared: Path | None) -> tuple[Path, Path]:
    """(folder of labelme JSON, labels.txt) of a source."""
    if name == "sample_data":
        return SAMPLE_DATA, SAMPLE_DATA / "labels.txt"
    assert shared is not None
    return shared / "data_annotated", shared / "labels.txt"


@pytest.fixture(scope="session", params=SOURCES)
def converted(request, tmp_path_factory) -> tuple[str, Path, Path]:
    """(source name, json2voc output, json2voc --noobject output) of each source."""
    shared = request.getfixturevalue("shared_fixture") if request.param != "sample_data" else None
    src, labels = source_paths(request.param, shared)
    root = tmp_path_factory.mktemp(request.param)
    json2voc(src, root / "voc", labels, workers=1)
    json2voc(src, root / "noobj", labels, workers=1, objects=False)
    return request.param, root / "voc", root / "noobj"
