#!/usr/bin/env python3
"""Draws the installable web app's PNG icons (crates/web/assets/icon-192.png, icon-512.png) from
the same design as icon.svg: a white exclamation mark on the alert red, here on a full square
so that the icon can be masked (any shape a phone's launcher cuts keeps the mark inside its
safe zone, the middle 80%). Standard library only; run again after changing the design."""
import struct, sys, zlib
from pathlib import Path

RED, WHITE = (0xB3, 0x26, 0x1E), (0xFF, 0xFF, 0xFF)


def inside_mark(x, y):
    """The mark in a 32-unit square, as in icon.svg: a bar from 6 to 18 and a dot at 22-26,
    4 wide with round ends, scaled to 60% around the centre (the safe zone)."""
    x, y = 16 + (x - 16) / 0.6, 16 + (y - 16) / 0.6
    def stroke(y0, y1):
        cy = min(max(y, y0), y1)
        return (x - 16) ** 2 + (y - cy) ** 2 <= 2 ** 2
    return stroke(6, 18) or stroke(22, 26)


def png(size):
    rows = []
    samples = ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75))
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            hits = sum(inside_mark((px + dx) * 32 / size, (py + dy) * 32 / size) for dx, dy in samples)
            share = hits / len(samples)
            row += bytes(round(r * (1 - share) + w * share) for r, w in zip(RED, WHITE))
        rows.append(bytes(row))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")


assets = Path(__file__).resolve().parent.parent / "crates/web/assets"
for size in (192, 512):
    (assets / f"icon-{size}.png").write_bytes(png(size))
print("written", file=sys.stderr)
