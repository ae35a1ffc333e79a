"""glTF 2.0 and GLB structure checks for 3D assets people upload: that the file is what it
says, that every length and index in it tells the truth, and that it loads nothing from
elsewhere. A browser hands these bytes to a WebGL loader on every colleague's machine, so
a lying length is a crash (or worse) for all of them; we refuse it once, here, with the
reason.

Pure: reads from a seekable binary stream and never decodes geometry. For a GLB only the
12-byte header, the chunk headers and the JSON chunk are read, so a large model is checked
without being held in memory.

Spec: https://registry.khronos.org/glTF/specs/2.0/glTF-2.0.html (sections 4.4, 5, 3.6).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from .errors import IIIFError

# Photogrammetry of a museum object is tens of MB, a large one 100-200 MB; every viewer
# must fetch the whole file and hold it in GPU memory, so past this no colleague on an
# ordinary laptop can open it.
MAX_MODEL_BYTES = 256 * 1024 * 1024
# The JSON part (scene description; and for a .gltf with data: URIs, its buffers too):
# parsing it is done whole, in memory. Real scenes' JSON is KBs to a few MB.
MAX_JSON_BYTES = 32 * 1024 * 1024
# Arrays in the JSON: a real model has hundreds to a few thousand of each.
MAX_ITEMS = 100_000

GLB_MAGIC = 0x46546C67  # "glTF"
CHUNK_JSON = 0x4E4F534A  # "JSON"
CHUNK_BIN = 0x004E4942  # "BIN\0"
GLB_MEDIA_TYPE = "model/gltf-binary"
GLTF_MEDIA_TYPE = "model/gltf+json"

COMPONENT_BYTES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
TYPE_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_DATA_URI = re.compile(r"^data:([^;,]*)(;base64)?,", re.IGNORECASE)


class ModelError(IIIFError):
    """A 3D file that is not a sound, self-contained glTF 2.0 / GLB; the message says why."""


class ModelTooLarge(ModelError):
    """A 3D file (or its JSON part) over a size limit."""


@dataclass(frozen=True)
class ModelInfo:
    format: Literal["model/gltf-binary", "model/gltf+json"]
    bytes: int
    generator: str | None
    meshes: int
    nodes: int


def check_model(data: bytes) -> ModelInfo:
    """Check a whole glTF or GLB file held in memory."""
    return check_model_file(io.BytesIO(data), len(data))


def check_model_file(stream: BinaryIO, size: int) -> ModelInfo:
    """Check the glTF 2.0 or GLB file in `stream` (seekable, `size` bytes)."""
    if size == 0:
        raise ModelError("the file is empty")
    if size > MAX_MODEL_BYTES:
        raise ModelTooLarge(f"the model is {size} bytes; the limit is {MAX_MODEL_BYTES}")
    stream.seek(0)
    head = stream.read(4)
    if len(head) == 4 and struct.unpack("<I", head)[0] == GLB_MAGIC:
        return _check_glb(stream, size)
    stream.seek(0)
    if size > MAX_JSON_BYTES:
        raise ModelTooLarge(
            f"a .gltf (JSON) model is limited to {MAX_JSON_BYTES} bytes; pack a larger one as GLB"
        )
    text = stream.read(size)
    if not text.lstrip(b" \t\r\n").startswith(b"{"):
        raise ModelError("not a glTF or GLB file (no glTF magic and no JSON object)")
    document = _parse_json(text, "the file")
    info = _check_document(document, glb_bin=None)
    return ModelInfo(GLTF_MEDIA_TYPE, size, *info)


def _check_glb(stream: BinaryIO, size: int) -> ModelInfo:
    stream.seek(0)
    header = stream.read(12)
    if len(header) < 12:
        raise ModelError("the GLB header is cut short (12 bytes expected)")
    _, version, length = struct.unpack("<III", header)
    if version != 2:
        raise ModelError(f"GLB version {version}; only glTF 2.0 is supported")
    if length != size:
        raise ModelError(f"the GLB header says {length} bytes but the file has {size}")
    offset = 12
    json_chunk: bytes | None = None
    bin_length: int | None = None
    index = 0
    while offset < size:
        if size - offset < 8:
            raise ModelError(f"chunk {index} at byte {offset}: its header is cut short")
        stream.seek(offset)
        chunk_length, chunk_type = struct.unpack("<II", stream.read(8))
        if chunk_length % 4:
            raise ModelError(
                f"chunk {index} at byte {offset}: length {chunk_length} is not a multiple of 4"
            )
        end = offset + 8 + chunk_length
        if end > size:
            raise ModelError(
                f"chunk {index} at byte {offset} says {chunk_length} bytes, "
                f"but only {size - offset - 8} follow"
            )
        if index == 0:
            if chunk_type != CHUNK_JSON:
                raise ModelError("the first GLB chunk must be the JSON chunk")
            if chunk_length > MAX_JSON_BYTES:
                raise ModelTooLarge(
                    f"the JSON chunk is {chunk_length} bytes; the limit is {MAX_JSON_BYTES}"
                )
            json_chunk = stream.read(chunk_length)
        elif chunk_type == CHUNK_JSON:
            raise ModelError(f"chunk {index}: a GLB has one JSON chunk")
        elif chunk_type == CHUNK_BIN:
            if index != 1:
                raise ModelError(f"chunk {index}: the BIN chunk must follow the JSON chunk")
            bin_length = chunk_length
        # Other chunk types are extensions' and, per the spec, ignored.
        offset = end
        index += 1
    if json_chunk is None:
        raise ModelError("the GLB has no JSON chunk")
    document = _parse_json(json_chunk, "the JSON chunk")
    info = _check_document(document, glb_bin=bin_length)
    return ModelInfo(GLB_MEDIA_TYPE, size, *info)


def _parse_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8").rstrip(" \x00"))
    except UnicodeDecodeError:
        raise ModelError(f"{what} is not UTF-8 text") from None
    except ValueError as exc:
        raise ModelError(f"{what} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ModelError(f"{what} must be a JSON object")
    return document


def _items(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise ModelError(f"{key} must be an array")
    if len(value) > MAX_ITEMS:
        raise ModelError(f"{key} has {len(value)} entries; the limit is {MAX_ITEMS}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ModelError(f"{key}[{i}] must be an object")
    return value


def _int(value: Any, where: str, *, minimum: int = 0, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ModelError(f"{where} must be a whole number of at least {minimum}, not {value!r}")
    return value


def _index(value: Any, where: str, count: int, of: str) -> int:
    index = _int(value, where)
    if index >= count:
        raise ModelError(f"{where} is {index}, but there are {count} {of}")
    return index


def _uri_bytes(uri: Any, where: str) -> int | None:
    """The byte length of a data: URI; ModelError for anything that would be fetched."""
    if not isinstance(uri, str):
        raise ModelError(f"{where} must be a string")
    match = _DATA_URI.match(uri)
    if not match:
        # Loading it would make every viewer fetch from wherever it points.
        raise ModelError(
            f"{where} refers to another file ({uri[:80]!r}); upload a self-contained model "
            "(GLB, or glTF with data: URIs)"
        )
    payload = uri[match.end() :]
    if not match.group(2):
        return len(payload.encode())
    try:
        return len(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError):
        raise ModelError(f"{where} is not valid base64") from None


def _check_document(
    document: dict[str, Any], *, glb_bin: int | None
) -> tuple[str | None, int, int]:
    asset = document.get("asset")
    if not isinstance(asset, dict) or not isinstance(asset.get("version"), str):
        raise ModelError("asset.version is missing: not a glTF 2.0 file")
    if not asset["version"].startswith("2."):
        raise ModelError(f"glTF version {asset['version']}; only 2.0 is supported")
    generator = asset.get("generator") if isinstance(asset.get("generator"), str) else None

    buffers = _items(document, "buffers")
    lengths: list[int] = []
    for i, buffer in enumerate(buffers):
        where = f"buffers[{i}]"
        length = _int(buffer.get("byteLength"), f"{where}.byteLength", minimum=1)
        if "uri" in buffer:
            actual = _uri_bytes(buffer["uri"], f"{where}.uri")
            if actual is not None and actual < length:
                raise ModelError(f"{where} says {length} bytes but its data has {actual}")
        elif i == 0 and glb_bin is not None:
            # The BIN chunk is padded to 4 bytes: at most 3 more than the buffer.
            if glb_bin < length or glb_bin > length + 3:
                raise ModelError(f"{where} says {length} bytes but the BIN chunk has {glb_bin}")
        else:
            raise ModelError(f"{where} has no uri and is not the GLB's BIN chunk")
        lengths.append(length)

    views = _items(document, "bufferViews")
    view_lengths: list[int] = []
    for i, view in enumerate(views):
        where = f"bufferViews[{i}]"
        buffer = _index(view.get("buffer"), f"{where}.buffer", len(lengths), "buffers")
        offset = _int(view.get("byteOffset"), f"{where}.byteOffset", default=0)
        length = _int(view.get("byteLength"), f"{where}.byteLength", minimum=1)
        if offset + length > lengths[buffer]:
            raise ModelError(
                f"{where} ends at byte {offset + length}, past the end of buffers[{buffer}] "
                f"({lengths[buffer]} bytes)"
            )
        if "byteStride" in view:
            stride = _int(view["byteStride"], f"{where}.byteStride", minimum=4)
            if stride > 252 or stride % 4:
                raise ModelError(f"{where}.byteStride must be 4 to 252, a multiple of 4")
        view_lengths.append(length)

    accessors = _items(document, "accessors")
    for i, accessor in enumerate(accessors):
        _check_accessor(accessor, f"accessors[{i}]", views, view_lengths)

    for i, image in enumerate(_items(document, "images")):
        where = f"images[{i}]"
        if "uri" in image:
            _uri_bytes(image["uri"], f"{where}.uri")
        elif "bufferView" in image:
            _index(image["bufferView"], f"{where}.bufferView", len(views), "bufferViews")
        else:
            raise ModelError(f"{where} has neither uri nor bufferView")

    meshes = _items(document, "meshes")
    for m, mesh in enumerate(meshes):
        primitives = mesh.get("primitives")
        if not isinstance(primitives, list) or not primitives:
            raise ModelError(f"meshes[{m}].primitives must be a non-empty array")
        for p, primitive in enumerate(primitives):
            where = f"meshes[{m}].primitives[{p}]"
            if not isinstance(primitive, dict) or not isinstance(primitive.get("attributes"), dict):
                raise ModelError(f"{where}.attributes must be an object")
            for name, value in primitive["attributes"].items():
                _index(value, f"{where}.attributes.{name}", len(accessors), "accessors")
            if "indices" in primitive:
                _index(primitive["indices"], f"{where}.indices", len(accessors), "accessors")

    nodes = _items(document, "nodes")
    for n, node in enumerate(nodes):
        if "mesh" in node:
            _index(node["mesh"], f"nodes[{n}].mesh", len(meshes), "meshes")
        for c, child in enumerate(node.get("children", [])):
            _index(child, f"nodes[{n}].children[{c}]", len(nodes), "nodes")
    for s, scene in enumerate(_items(document, "scenes")):
        for r, root in enumerate(scene.get("nodes", [])):
            _index(root, f"scenes[{s}].nodes[{r}]", len(nodes), "nodes")
    return generator, len(meshes), len(nodes)


def _check_accessor(
    accessor: dict[str, Any], where: str, views: list[dict[str, Any]], view_lengths: list[int]
) -> None:
    component = accessor.get("componentType")
    if component not in COMPONENT_BYTES:
        raise ModelError(f"{where}.componentType {component!r} is not a glTF component type")
    kind = accessor.get("type")
    if kind not in TYPE_COMPONENTS:
        raise ModelError(f"{where}.type {kind!r} is not SCALAR, VEC2-4 or MAT2-4")
    count = _int(accessor.get("count"), f"{where}.count", minimum=1)
    if "bufferView" not in accessor:
        return  # all zeros (or sparse only): nothing to read past
    view = _index(accessor["bufferView"], f"{where}.bufferView", len(views), "bufferViews")
    offset = _int(accessor.get("byteOffset"), f"{where}.byteOffset", default=0)
    element = COMPONENT_BYTES[component] * TYPE_COMPONENTS[kind]
    stride = views[view].get("byteStride") or element
    end = offset + stride * (count - 1) + element
    if end > view_lengths[view]:
        raise ModelError(
            f"{where} reads {count} x {kind} to byte {end}, past the end of "
            f"bufferViews[{view}] ({view_lengths[view]} bytes)"
        )


def glb(document: dict[str, Any], binary: bytes = b"") -> bytes:
    """A GLB of a glTF JSON document and its binary buffer (for tests and fixtures)."""
    text = json.dumps(document, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    chunks = struct.pack("<II", len(text), CHUNK_JSON) + text
    if binary:
        binary += b"\x00" * (-len(binary) % 4)
        chunks += struct.pack("<II", len(binary), CHUNK_BIN) + binary
    return struct.pack("<III", GLB_MAGIC, 2, 12 + len(chunks)) + chunks
