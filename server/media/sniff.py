"""What a file is, from its first bytes (never its name or the client's media type): the
images we convert, the 3D formats, and what we refuse on sight (SVG, HTML, XML, PDF, scripts:
active content a browser could run if it were ever served back)."""

from __future__ import annotations

from dataclasses import dataclass

# Enough for every signature below, and for a look at text that poses as something else.
HEAD_BYTES = 512


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "image", "model", "active", "document" or "unknown"
    format: str  # "jpeg", "png", "tiff", "bigtiff", "webp", "jp2", "glb", "json", "svg", ...
    media_type: str

    @property
    def label(self) -> str:
        return NAMES.get(self.format, self.format)


NAMES = {
    "jpeg": "JPEG",
    "png": "PNG",
    "tiff": "TIFF",
    "bigtiff": "BigTIFF",
    "webp": "WebP",
    "jp2": "JPEG 2000",
    "glb": "glTF binary (GLB)",
    "json": "JSON",
    "svg": "SVG",
    "html": "HTML",
    "xml": "XML",
    "pdf": "PDF",
    "gif": "GIF",
    "heif": "HEIF/AVIF",
    "empty": "an empty file",
    "text": "text",
    "binary": "unrecognised binary data",
}


def sniff(head: bytes) -> Sniffed:
    """The type of a file whose first bytes are `head` (at least HEAD_BYTES when the file
    is that long)."""
    if not head:
        return Sniffed("unknown", "empty", "application/octet-stream")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "jpeg", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "png", "image/png")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Sniffed("image", "tiff", "image/tiff")
    if head[:4] in (b"II+\x00", b"MM\x00+"):
        return Sniffed("image", "bigtiff", "image/tiff")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "webp", "image/webp")
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xffO\xffQ"):
        return Sniffed("image", "jp2", "image/jp2")
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"avif", b"mif1", b"msf1"):
        return Sniffed("unknown", "heif", "image/heif")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("unknown", "gif", "image/gif")
    if head.startswith(b"glTF"):
        return Sniffed("model", "glb", "model/gltf-binary")
    if head.startswith(b"%PDF-"):
        return Sniffed("document", "pdf", "application/pdf")
    text = _text(head)
    if text is not None:
        lowered = text.lstrip().lower()
        if "<svg" in lowered:
            return Sniffed("active", "svg", "image/svg+xml")
        if lowered.startswith(("<!doctype html", "<html", "<script", "<head", "<body")) or (
            "<script" in lowered
        ):
            return Sniffed("active", "html", "text/html")
        if lowered.startswith("<"):
            return Sniffed("active", "xml", "application/xml")
        if lowered.startswith(("{", "[")):
            return Sniffed(
                "model" if '"asset"' in lowered else "unknown", "json", "application/json"
            )
        return Sniffed("unknown", "text", "text/plain")
    return Sniffed("unknown", "binary", "application/octet-stream")


def _text(head: bytes) -> str | None:
    """`head` as text if it reads as UTF-8 or UTF-16 text (a cut last character allowed)."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="ignore")
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return None
        decoded = head[: exc.start].decode("utf-8")
    if any(ord(c) < 9 or 13 < ord(c) < 32 for c in decoded):
        return None
    return decoded
