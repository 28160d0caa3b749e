"""Stand-ins for names house-core's reshape (issue 9) provides; deleted at its merge.

``write_image`` becomes ``labeltools.formats.base.write_image`` (today's
``convert._write_image``: JPEG bytes copied, anything else re-encoded upright).
"""

from __future__ import annotations

from ..convert import _write_image as write_image

__all__ = ["write_image"]
