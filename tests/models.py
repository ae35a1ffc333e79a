"""3D models for tests, made here rather than downloaded: a GLB box with positions,
normals and indices (what a conservator's photogrammetry export has, on a small scale)."""

from __future__ import annotations

import struct
from typing import Any

from iiif.gltf import glb

_FACES = [
    # normal, then the two axes spanning the face
    ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
    ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
    ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
    ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
    ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
]


def box_document(
    half: tuple[float, float, float] = (1.0, 0.6, 0.4),
) -> tuple[dict[str, Any], bytes]:
    """The glTF JSON and binary buffer of a box centred on the origin."""
    positions: list[float] = []
    normals: list[float] = []
    indices: list[int] = []
    for face, (n, u, v) in enumerate(_FACES):
        for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            point = [(n[i] + su * u[i] + sv * v[i]) * half[i] for i in range(3)]
            positions += point
            normals += list(map(float, n))
        base = face * 4
        indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    pos = struct.pack(f"<{len(positions)}f", *positions)
    nor = struct.pack(f"<{len(normals)}f", *normals)
    idx = struct.pack(f"<{len(indices)}H", *indices)
    binary = pos + nor + idx
    count = len(positions) // 3
    document = {
        "asset": {"version": "2.0", "generator": "sinopia tests"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "box"}],
        "meshes": [
            {
                "primitives": [
                    {"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2, "material": 0}
                ]
            }
        ],
        "materials": [
            {
                "pbrMetallicRoughness": {
                    "baseColorFactor": [0.72, 0.6, 0.42, 1],
                    "metallicFactor": 0.1,
                }
            }
        ],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(pos), "target": 34962},
            {"buffer": 0, "byteOffset": len(pos), "byteLength": len(nor), "target": 34962},
            {
                "buffer": 0,
                "byteOffset": len(pos) + len(nor),
                "byteLength": len(idx),
                "target": 34963,
            },
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": count,
                "type": "VEC3",
                "min": [-h for h in half],
                "max": list(half),
            },
            {"bufferView": 1, "componentType": 5126, "count": count, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5123, "count": len(indices), "type": "SCALAR"},
        ],
    }
    return document, binary


def box_glb(half: tuple[float, float, float] = (1.0, 0.6, 0.4)) -> bytes:
    document, binary = box_document(half)
    return glb(document, binary)
