"""The glTF 2.0 / GLB structure check that 3D uploads pass through: a sound model is
accepted and described; each kind of lie or outside reference is refused with a reason
that names the place."""

from __future__ import annotations

import base64
import copy
import io
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest

from iiif.gltf import (
    CHUNK_BIN,
    GLB_MAGIC,
    MAX_JSON_BYTES,
    MAX_MODEL_BYTES,
    ModelError,
    ModelTooLarge,
    check_model,
    check_model_file,
    glb,
)

from .models import box_document, box_glb


def test_a_sound_glb_and_gltf_are_accepted() -> None:
    data = box_glb()
    info = check_model(data)
    assert (info.format, info.bytes, info.meshes, info.nodes) == (
        "model/gltf-binary",
        len(data),
        1,
        1,
    )
    assert info.generator == "sinopia tests"
    document, binary = box_document()
    document["buffers"][0]["uri"] = (
        "data:application/octet-stream;base64," + base64.b64encode(binary).decode()
    )
    text = json.dumps(document).encode()
    assert check_model(text).format == "model/gltf+json"


def _refused(data: bytes, said: str) -> None:
    with pytest.raises(ModelError) as caught:
        check_model(data)
    assert said in str(caught.value), str(caught.value)


def test_glb_headers_and_chunk_lengths_that_lie_are_refused() -> None:
    good = box_glb()
    _refused(b"", "empty")
    _refused(b"GIF89a" + b"\0" * 40, "not a glTF or GLB")
    _refused(good[:10], "header is cut short")
    _refused(good[:4] + struct.pack("<I", 1) + good[8:], "GLB version 1")
    # The header's total length lies (too long, too short: a truncated download).
    _refused(good[:8] + struct.pack("<I", len(good) + 100) + good[12:], "header says")
    _refused(good[:-8], "header says")
    # The JSON chunk's length claims more than the file holds.
    lying = bytearray(good)
    struct.pack_into("<I", lying, 12, len(good))
    _refused(bytes(lying), "only")
    # Not a multiple of 4.
    odd = bytearray(good)
    struct.pack_into("<I", odd, 12, struct.unpack_from("<I", good, 12)[0] + 1)
    _refused(bytes(odd), "not a multiple of 4")
    # The BIN chunk is shorter than the buffer it holds.
    document, binary = box_document()
    short = glb(document, binary[:-16])
    _refused(short, "the BIN chunk has")
    # A BIN chunk first, a second JSON chunk, no JSON.
    bin_first = struct.pack("<III", GLB_MAGIC, 2, 20) + struct.pack("<II", 0, CHUNK_BIN)
    _refused(bin_first, "first GLB chunk must be the JSON chunk")
    _refused(struct.pack("<III", GLB_MAGIC, 2, 12), "no JSON chunk")
    # A chunk header cut short after the last chunk.
    tail = good + b"\0\0\0\0"
    _refused(tail[:8] + struct.pack("<I", len(tail)) + tail[12:], "header is cut short")


def _edited(change: Callable[[dict[str, Any]], None]) -> bytes:
    document, binary = box_document()
    document = copy.deepcopy(document)
    change(document)
    return glb(document, binary)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: d.__setitem__("asset", {"version": "1.0"}), "only 2.0"),
        (lambda d: d.pop("asset"), "asset.version is missing"),
        (
            lambda d: d["bufferViews"][2].__setitem__("byteLength", 10_000),
            "past the end of buffers[0]",
        ),
        (lambda d: d["bufferViews"][0].__setitem__("buffer", 3), "bufferViews[0].buffer is 3"),
        (lambda d: d["bufferViews"][0].__setitem__("byteStride", 6), "byteStride"),
        (
            lambda d: d["accessors"][0].__setitem__("count", 10_000),
            "past the end of bufferViews[0]",
        ),
        (
            lambda d: d["accessors"][1].__setitem__("byteOffset", 280),
            "past the end of bufferViews[1]",
        ),
        (lambda d: d["accessors"][0].__setitem__("componentType", 5130), "componentType"),
        (lambda d: d["accessors"][0].__setitem__("type", "VEC5"), "type 'VEC5'"),
        (lambda d: d["accessors"][0].__setitem__("bufferView", 9), "accessors[0].bufferView is 9"),
        (
            lambda d: d["meshes"][0]["primitives"][0]["attributes"].__setitem__("POSITION", 7),
            "POSITION is 7",
        ),
        (lambda d: d["meshes"][0]["primitives"][0].__setitem__("indices", -1), "at least 0"),
        (lambda d: d["nodes"][0].__setitem__("mesh", 4), "nodes[0].mesh is 4"),
        (lambda d: d["scenes"][0].__setitem__("nodes", [2]), "scenes[0].nodes[0] is 2"),
        (lambda d: d["buffers"][0].__setitem__("byteLength", "many"), "buffers[0].byteLength"),
        (lambda d: d.__setitem__("buffers", {"no": 1}), "buffers must be an array"),
        # External references: every viewer would fetch them from wherever they point.
        (
            lambda d: d["buffers"].append(
                {"byteLength": 4, "uri": "https://tracker.example/x.bin"}
            ),
            "refers to another file",
        ),
        (
            lambda d: d.__setitem__("images", [{"uri": "../../etc/passwd"}]),
            "refers to another file",
        ),
        (
            lambda d: d["buffers"].append(
                {"byteLength": 8, "uri": "data:application/octet-stream;base64,AAAA"}
            ),
            "says 8 bytes but its data has 3",
        ),
        (
            lambda d: d["buffers"].append({"byteLength": 8, "uri": "data:;base64,!!"}),
            "not valid base64",
        ),
        (lambda d: d["buffers"].append({"byteLength": 8}), "has no uri"),
    ],
)
def test_json_that_lies_or_reaches_out_is_refused(
    change: Callable[[dict[str, Any]], None], said: str
) -> None:
    _refused(_edited(change), said)


def test_json_chunk_that_does_not_parse() -> None:
    text = b'{"asset": {"version": "2.0"'
    text += b" " * (-len(text) % 4)
    chunk = struct.pack("<II", len(text), 0x4E4F534A) + text
    data = struct.pack("<III", GLB_MAGIC, 2, 12 + len(chunk)) + chunk
    _refused(data, "the JSON chunk is not JSON")
    _refused(b"[1, 2]", "not a glTF or GLB")
    _refused(b'{"asset": ', "the file is not JSON")
    _refused(b"{\xff\xfe}", "not UTF-8")


def test_size_limits_are_checked_before_reading() -> None:
    class Huge(io.BytesIO):
        def read(self, *args: Any) -> bytes:
            raise AssertionError("read a file over the limit")

    with pytest.raises(ModelTooLarge, match=f"the limit is {MAX_MODEL_BYTES}"):
        check_model_file(Huge(), MAX_MODEL_BYTES + 1)
    with pytest.raises(ModelTooLarge, match="pack a larger one as GLB"):
        check_model_file(io.BytesIO(b"{" + b" " * 10), MAX_JSON_BYTES + 1)
    # A JSON chunk over its limit is refused from its header, before it is read.
    header = struct.pack("<III", GLB_MAGIC, 2, 12 + 8 + MAX_JSON_BYTES + 4)
    chunk = struct.pack("<II", MAX_JSON_BYTES + 4, 0x4E4F534A)

    class Lazy(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if size is not None and size > 1024:
                raise AssertionError("read the oversized chunk")
            return super().read(size)

    with pytest.raises(ModelTooLarge, match="the JSON chunk is"):
        check_model_file(Lazy(header + chunk), 12 + 8 + MAX_JSON_BYTES + 4)
