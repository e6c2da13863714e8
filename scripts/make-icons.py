"""Draws Hush's icons (a speech bubble on teal) as PNG files, with no dependencies.

Run once when the design changes: python3 scripts/make-icons.py
Writes public/icons/icon-192.png, icon-512.png and maskable-512.png (safe zone: the bubble stays
inside the central 80%).
"""

import math
import struct
import zlib
from pathlib import Path

TEAL = (31, 111, 107)
WHITE = (255, 255, 255)


def inside_bubble(x, y, scale):
    """A circle with a tail at lower left, in a unit square scaled by `scale` around the centre."""
    cx = cy = 0.5
    nx, ny = (x - cx) / scale + cx, (y - cy) / scale + cy
    if (nx - 0.5) ** 2 + (ny - 0.47) ** 2 <= 0.30 ** 2:
        return True
    # Tail: a triangle from under the circle towards the lower left.
    ax, ay, bx, by, px, py = 0.30, 0.62, 0.45, 0.74, 0.22, 0.84
    d = (by - py) * (ax - px) + (px - bx) * (ay - py)
    l1 = ((by - py) * (nx - px) + (px - bx) * (ny - py)) / d
    l2 = ((py - ay) * (nx - px) + (ax - px) * (ny - py)) / d
    return l1 >= 0 and l2 >= 0 and 1 - l1 - l2 >= 0


def inside_dots(x, y, scale):
    cx = cy = 0.5
    nx, ny = (x - cx) / scale + cx, (y - cy) / scale + cy
    return any((nx - dx) ** 2 + (ny - 0.47) ** 2 <= 0.045 ** 2 for dx in (0.38, 0.5, 0.62))


def draw(size, scale, rounded):
    rows = []
    n = 4  # supersampling per axis
    radius = 0.22 if rounded else 0.0
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    x = (px + (sx + 0.5) / n) / size
                    y = (py + (sy + 0.5) / n) / size
                    # Rounded-square background (or full bleed for maskable icons).
                    qx, qy = min(x, 1 - x), min(y, 1 - y)
                    if rounded and qx < radius and qy < radius and (radius - qx) ** 2 + (radius - qy) ** 2 > radius ** 2:
                        continue
                    if inside_bubble(x, y, scale) and not inside_dots(x, y, scale):
                        colour = WHITE
                    else:
                        colour = TEAL
                    acc[0] += colour[0]
                    acc[1] += colour[1]
                    acc[2] += colour[2]
                    acc[3] += 255
            k = n * n
            alpha = acc[3] / k
            if alpha:
                row += bytes([round(acc[0] / (acc[3] / 255)), round(acc[1] / (acc[3] / 255)), round(acc[2] / (acc[3] / 255)), round(alpha)])
            else:
                row += bytes([0, 0, 0, 0])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


out = Path(__file__).resolve().parent.parent / "public" / "icons"
out.mkdir(parents=True, exist_ok=True)
(out / "icon-192.png").write_bytes(draw(192, 1.0, True))
(out / "icon-512.png").write_bytes(draw(512, 1.0, True))
(out / "maskable-512.png").write_bytes(draw(512, 0.72, False))
