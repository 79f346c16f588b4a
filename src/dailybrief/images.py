"""The branding logo's one check, shared by the config loader (which refuses a bad logo at load)
and the renderers (which embed it)."""

from __future__ import annotations

import io
from pathlib import Path

__all__ = ["LOGO_TYPES", "logo_problem"]

LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}


def logo_problem(path: str | Path, data: bytes | None = None) -> str:
    """Why this file cannot be the logo ("" when it can): missing, unreadable, or not the image it claims."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in LOGO_TYPES:
        return "unsupported type; use a PNG, JPEG, GIF, WebP or SVG file"
    if data is None:
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            return "the file does not exist; fix the path (relative paths start at the config file's folder)"
        except OSError as err:
            return f"the file cannot be read ({err.strerror or err}); check its permissions"
    if suffix == ".svg":
        return "" if b"<svg" in data[:4096] else "the file is not an SVG image; use a real image file"
    try:
        from PIL import Image  # lazy: Pillow, when a logo or image is checked or embedded

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception as err:  # noqa: BLE001 - Pillow raises many kinds for a bad image
        return f"the file is not a valid {suffix[1:].upper()} image ({err}); use a real image file"
    return ""
