"""Dataset formats: one module per format (its layout, its writer, its pure conversions).

Placeholder of the coco-yolo branch: house-core's version (the ``WRITERS`` registry)
replaces it at merge, and ``"coco"`` / ``"yolo"`` are registered there.
"""
