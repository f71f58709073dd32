"""Render a QR payload (see :mod:`govchain.credentials.qr`) as PNG, SVG or terminal text.

Base45 text uses only QR alphanumeric characters, so the code stays small; error correction is
level Q (about 25 % of the symbol may be damaged), as the EU DCC specification asks. Output is
returned as bytes or a string; nothing is written to a file or the screen.
"""

from __future__ import annotations

import io

import segno

__all__ = [
    "DEFAULT_ERROR_CORRECTION",
    "make_qr_code",
    "render_qr_png",
    "render_qr_svg",
    "render_qr_terminal",
]

DEFAULT_ERROR_CORRECTION = "q"


def make_qr_code(text: str, *, error: str = DEFAULT_ERROR_CORRECTION) -> segno.QRCode:
    """A (never micro) QR code for ``text``; ``segno`` picks the smallest version that fits."""
    return segno.make(text, error=error, micro=False, boost_error=False)


def render_qr_png(
    text: str, *, scale: int = 4, border: int = 4, error: str = DEFAULT_ERROR_CORRECTION
) -> bytes:
    """PNG bytes; ``scale`` pixels per module, ``border`` quiet-zone modules around the code."""
    out = io.BytesIO()
    make_qr_code(text, error=error).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def render_qr_svg(
    text: str, *, scale: int = 4, border: int = 4, error: str = DEFAULT_ERROR_CORRECTION
) -> bytes:
    """A standalone SVG document (UTF-8 bytes, with the XML declaration)."""
    out = io.BytesIO()
    make_qr_code(text, error=error).save(out, kind="svg", scale=scale, border=border)
    return out.getvalue()


def render_qr_terminal(
    text: str, *, compact: bool = True, border: int = 2, error: str = DEFAULT_ERROR_CORRECTION
) -> str:
    """Terminal text. ``compact`` draws two modules per character with Unicode half blocks;
    otherwise ANSI background colours are used."""
    out = io.StringIO()
    make_qr_code(text, error=error).terminal(out=out, border=border, compact=compact)
    return out.getvalue()
