#!/usr/bin/env python
"""Generate sample_data/: a small labelme project of synthetic scenes.

Five JPEG scenes drawn with Pillow on seeded textures, each with the labelme 5.x
JSON file an annotator would have saved for it. Together they cover every shape
type labelme writes, embedded ``imageData`` (yard_003), an EXIF-rotated photo
whose shapes refer to the upright image (portrait_004), objects made of several
shapes sharing a ``group_id`` (park_002, yard_003) and an ``__ignore__`` region
(street_001). The shapes are the exact geometry the objects were drawn with.

Re-running it rewrites the same bytes (seeded; no timestamps):

    python sample_data/make_sample_data.py [OUT_DIR]

Only NumPy and Pillow are used, so the data does not depend on labeltools.
"""

from __future__ import annotations

import base64
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SEED = 20240611
LABELME_VERSION = "5.5.0"
JPEG_QUALITY = 85
#: EXIF orientation 6: the camera was turned 90 degrees clockwise; viewers rotate it back.
ROTATED_ORIENTATION = 6
EXIF_ORIENTATION_TAG = 0x0112

LABELS = ["__ignore__", "_background_", "car", "person", "tree", "ball", "fence", "pole"]

COLORS = {
    "car": (200, 30, 40),
    "car2": (40, 70, 190),
    "person": (240, 190, 150),
    "shirt": (60, 150, 200),
    "tree": (30, 110, 40),
    "trunk": (110, 70, 30),
    "ball": (250, 220, 20),
    "fence": (150, 110, 70),
    "pole": (70, 70, 80),
    "glare": (255, 255, 240),
}


def texture(
    rng: np.random.Generator, size: tuple[int, int], top, bottom, amp: float
) -> Image.Image:
    """A vertical colour gradient with smooth seeded noise: small JPEGs, not flat fills."""
    w, h = size
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    base = (1 - t) * np.asarray(top, float) + t * np.asarray(bottom, float)
    coarse = rng.uniform(-1, 1, size=(h // 24 + 2, w // 24 + 2, 3))
    coarse_img = Image.fromarray(((coarse + 1) * 127.5).astype(np.uint8))
    noise = np.asarray(coarse_img.resize((w, h), Image.Resampling.BICUBIC), float) / 127.5 - 1
    return Image.fromarray(np.clip(base + amp * noise, 0, 255).astype(np.uint8))


def blob(rng: np.random.Generator, h: int, w: int, n: int = 7) -> np.ndarray:
    """A bush-like boolean patch (union of discs), cropped to touch all four sides.

    labelme crops a mask shape's patch to the object's bounding box.
    """
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w), bool)
    for _ in range(n):
        cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.2, 0.8) * w
        r = rng.uniform(0.25, 0.4) * min(h, w)
        out |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    return out[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def mask_b64(patch: np.ndarray) -> str:
    # labelme stores a mask as an 8-bit PNG of 0/1 values.
    buf = io.BytesIO()
    Image.fromarray(patch.astype(np.uint8)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def rotated_rect(cx: float, cy: float, w: float, h: float, degrees: float) -> list[list[float]]:
    a = math.radians(degrees)
    ca, sa = math.cos(a), math.sin(a)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return [[round(cx + x * ca - y * sa, 1), round(cy + x * sa + y * ca, 1)] for x, y in corners]


def shape(label, points, shape_type, group_id=None, description="", flags=None, mask=None):
    return {
        "label": label,
        "points": [[float(x), float(y)] for x, y in points],
        "group_id": group_id,
        "description": description,
        "shape_type": shape_type,
        "flags": flags or {},
        "mask": mask,
    }


def xy(points) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in points]


def disc(draw: ImageDraw.ImageDraw, cx, cy, r, color) -> list[list[float]]:
    """Draw a disc; return labelme's circle points (centre, a point on the rim)."""
    draw.ellipse([(cx - r, cy - r), (cx + r, cy + r)], fill=color)
    return [[cx, cy], [cx + r, cy]]


def paste_patch(img: Image.Image, patch: np.ndarray, x0: int, y0: int, color) -> list[list[int]]:
    """Paint a boolean patch at (x0, y0); return labelme's mask box (inclusive corners)."""
    h, w = patch.shape
    stencil = Image.fromarray(patch.astype(np.uint8) * 255)
    img.paste(Image.new("RGB", (w, h), color), (x0, y0), stencil)
    return [[x0, y0], [x0 + w - 1, y0 + h - 1]]


def street_001(rng):
    img = texture(rng, (480, 360), (150, 190, 235), (120, 120, 125), 18)
    d = ImageDraw.Draw(img)
    d.rectangle([(0, 170), (480, 360)], fill=(105, 105, 110))
    glare = [[40, 30], [150, 22], [190, 60], [120, 95], [45, 80]]
    d.polygon(xy(glare), fill=COLORS["glare"])
    car = [[60, 205], [205, 285]]
    d.rectangle(xy(car), fill=COLORS["car"])
    van = rotated_rect(330, 255, 130, 62, -18)
    d.polygon(xy(van), fill=COLORS["car2"])
    pole = [[432, 40], [432, 340]]
    d.line(xy(pole), fill=COLORS["pole"], width=9)
    shapes = [
        shape("__ignore__", glare, "polygon", description="sun glare: class unknown"),
        shape("car", car, "rectangle", description="red hatchback"),
        shape("car", van, "oriented_rectangle", flags={"occluded": False}),
        shape("pole", pole, "line"),
    ]
    return img, shapes


def park_002(rng):
    img = texture(rng, (400, 300), (170, 210, 240), (70, 150, 60), 20)
    d = ImageDraw.Draw(img)
    trunk = [[100, 140], [122, 235]]
    d.rectangle(xy(trunk), fill=COLORS["trunk"])
    crown = [[60, 120], [70, 70], [110, 40], [160, 60], [170, 110], [140, 150], [85, 150]]
    d.polygon(xy(crown), fill=COLORS["tree"])
    person = [[250, 120], [275, 120], [280, 200], [272, 260], [262, 260], [262, 205], [258, 205],
              [256, 260], [246, 260], [244, 200]]
    d.polygon(xy(person), fill=COLORS["shirt"])
    ball = disc(d, 318, 250, 14, COLORS["ball"])
    fence = [[5, 285], [120, 268], [230, 280], [395, 262]]
    d.line(xy(fence), fill=COLORS["fence"], width=9, joint="curve")
    shapes = [
        # One tree drawn as two shapes: group_id 1 makes them one instance.
        shape("tree", trunk, "rectangle", group_id=1, description="trunk"),
        shape("tree", crown, "polygon", group_id=1, description="crown"),
        shape("person", person, "polygon"),
        shape("ball", ball, "circle"),
        shape("fence", fence, "linestrip"),
    ]
    return img, shapes


def yard_003(rng):
    img = texture(rng, (320, 240), (200, 200, 190), (120, 100, 80), 16)
    d = ImageDraw.Draw(img)
    bush = blob(rng, 70, 100)
    box = paste_patch(img, bush, 25, 130, COLORS["tree"])
    body = [[190, 95], [230, 95], [236, 200], [184, 200]]
    d.polygon(xy(body), fill=COLORS["shirt"])
    head = disc(d, 210, 75, 18, COLORS["person"])
    ball = disc(d, 275, 215, 5, COLORS["ball"])[:1]  # a labelme point: radius 5
    shapes = [
        shape("tree", box, "mask", description="bush", mask=mask_b64(bush)),
        shape("person", body, "polygon", group_id=1),
        shape("person", head, "circle", group_id=1),
        shape("ball", ball, "point"),
    ]
    return img, shapes


def portrait_004(rng):
    # Drawn upright (360 wide x 480 high); stored sideways with an EXIF orientation.
    img = texture(rng, (360, 480), (180, 200, 230), (150, 140, 120), 18)
    d = ImageDraw.Draw(img)
    person = [[150, 120], [210, 120], [225, 260], [215, 430], [195, 430], [180, 280], [165, 430],
              [145, 430], [135, 260]]
    d.polygon(xy(person), fill=COLORS["shirt"])
    head = disc(d, 180, 90, 28, COLORS["person"])
    pole = [[40, 20], [60, 470]]
    d.line(xy(pole), fill=COLORS["pole"], width=9)
    ball = disc(d, 290, 420, 22, COLORS["ball"])
    shapes = [
        shape("person", person, "polygon", group_id=7),
        shape("person", head, "circle", group_id=7),
        shape("pole", pole, "line"),
        shape("ball", ball, "circle"),
    ]
    return img, shapes


def garden_005(rng):
    img = texture(rng, (360, 270), (190, 215, 235), (90, 140, 70), 20)
    d = ImageDraw.Draw(img)
    fence = [[0, 200], [90, 190], [180, 205], [270, 185], [359, 195]]
    d.line(xy(fence), fill=COLORS["fence"], width=9, joint="curve")
    hedge = blob(rng, 60, 120)
    box = paste_patch(img, hedge, 200, 60, COLORS["tree"])
    tree = [[40, 170], [55, 90], [80, 40], [105, 90], [120, 170]]
    d.polygon(xy(tree), fill=COLORS["tree"])
    ball = disc(d, 160, 240, 5, COLORS["ball"])[:1]
    shapes = [
        shape("fence", fence, "linestrip"),
        shape("tree", box, "mask", mask=mask_b64(hedge)),
        shape("tree", tree, "polygon"),
        shape("ball", ball, "point"),
    ]
    return img, shapes


SCENES = [
    # (stem, drawer, embed imageData, EXIF orientation)
    ("street_001", street_001, False, None),
    ("park_002", park_002, False, None),
    ("yard_003", yard_003, True, None),
    ("portrait_004", portrait_004, False, ROTATED_ORIENTATION),
    ("garden_005", garden_005, False, None),
]


def jpeg(img: Image.Image, orientation: int | None) -> bytes:
    buf = io.BytesIO()
    if orientation is None:
        img.save(buf, format="JPEG", quality=JPEG_QUALITY)
    else:
        # Store the pixels as a sideways camera would; orientation 6 tells viewers
        # (and labelme) to turn them 90 degrees clockwise, back to ``img``.
        exif = Image.Exif()
        exif[EXIF_ORIENTATION_TAG] = orientation
        stored = img.transpose(Image.Transpose.ROTATE_90)
        stored.save(buf, format="JPEG", quality=JPEG_QUALITY, exif=exif.tobytes())
    return buf.getvalue()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for stem, draw, embed, orientation in SCENES:
        img, shapes = draw(rng)
        data = jpeg(img, orientation)
        (out / f"{stem}.jpg").write_bytes(data)
        doc = {
            "version": LABELME_VERSION,
            "flags": {},
            "shapes": shapes,
            "imagePath": f"{stem}.jpg",
            "imageData": base64.b64encode(data).decode("ascii") if embed else None,
            "imageHeight": img.height,  # the upright size, as labelme records it
            "imageWidth": img.width,
        }
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        (out / f"{stem}.json").write_text(text, encoding="utf-8")
    (out / "labels.txt").write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    (out / "class_names.txt").write_text("\n".join(LABELS[1:]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
