"""The annotations a manifest carries besides what it paints: Presentation 3 `annotations`
pages (on canvases, scenes or the manifest; inline, or referenced by id to be fetched) and
Presentation 2 `otherContent` annotation lists (inline or referenced), read into W3C Web
Annotation JSON so the rest of Sinopia reads one shape.

Pure: what needs fetching is returned as a `PageRef` with a `url`; the caller fetches it
and hands the JSON back to `read_page`. Everything that cannot be used is reported as a
`Skipped` naming its place, never dropped in silence.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .language import language_map, pick
from .webannotations import as_list, ident

# Presentation 2 (Open Annotation) types and motivations, as W3C names them.
_P2_TEXT = frozenset({"cnt:ContentAsText", "dctypes:Text", "oa:TextualBody", "TextualBody"})
_P2_TAG = frozenset({"oa:Tag", "Tag"})
_P2_PAGE = frozenset({"sc:AnnotationList", "AnnotationList"})
_P3_PAGE = frozenset({"AnnotationPage"})
_COLLECTION = frozenset({"AnnotationCollection", "sc:Layer", "Layer"})


@dataclass(frozen=True)
class Skipped:
    """Something carried that was not imported, and why (for the person importing)."""

    where: str
    message: str


@dataclass(frozen=True)
class PageRef:
    """An annotation page or list: inline (`page`) or to be fetched (`url`)."""

    where: str
    version: int  # 2 or 3: how to read it
    canvas: str | None = None  # the canvas or scene that lists it; None: the manifest
    page: dict[str, Any] | None = None
    url: str | None = None
    # A Scene's `items` page: the 3D draft puts comments beside the model it paints;
    # only those are read, never what is painted (models, cameras, lights).
    painting_page: bool = False


@dataclass(frozen=True)
class Carried:
    """One annotation, as W3C JSON, with where it came from."""

    where: str
    annotation: dict[str, Any]
    canvas: str | None  # the canvas or scene whose page listed it
    source: str  # its IRI, or a stable IRI for one that has none (its page's and position)


@dataclass
class PageContent:
    annotations: list[Carried] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    next: str | None = None  # a paged AnnotationPage's next page, to fetch too


def _type(obj: dict[str, Any]) -> str:
    value = obj.get("type", obj.get("@type"))
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    return value if isinstance(value, str) else ""


def annotation_pages(data: dict[str, Any], version: int) -> list[PageRef]:
    """The annotation pages a (parsed, already accepted) manifest lists, in manifest order."""
    refs: list[PageRef] = []
    if version == 3:
        refs += _p3_pages(data.get("annotations"), "annotations", None)
        for index, container in enumerate(as_list(data.get("items"))):
            if isinstance(container, dict) and _type(container) in ("Canvas", "Scene"):
                where = f"items[{index}].annotations"
                refs += _p3_pages(container.get("annotations"), where, ident(container))
                if _type(container) == "Scene":
                    for p, page in enumerate(as_list(container.get("items"))):
                        if isinstance(page, dict) and isinstance(page.get("items"), list):
                            refs.append(
                                PageRef(
                                    where=f"items[{index}].items[{p}]",
                                    version=3,
                                    canvas=ident(container),
                                    page=page,
                                    painting_page=True,
                                )
                            )
        return refs
    for s, sequence in enumerate(as_list(data.get("sequences"))):
        if not isinstance(sequence, dict):
            continue
        for c, canvas in enumerate(as_list(sequence.get("canvases"))):
            if not isinstance(canvas, dict):
                continue
            where = f"sequences[{s}].canvases[{c}].otherContent"
            for i, item in enumerate(as_list(canvas.get("otherContent"))):
                refs.append(_page_ref(item, f"{where}[{i}]", 2, ident(canvas)))
    return refs


def _p3_pages(value: Any, where: str, canvas: str | None) -> list[PageRef]:
    return [_page_ref(item, f"{where}[{i}]", 3, canvas) for i, item in enumerate(as_list(value))]


def _page_ref(item: Any, where: str, version: int, canvas: str | None) -> PageRef:
    if isinstance(item, str):
        return PageRef(where=where, version=version, canvas=canvas, url=item)
    if not isinstance(item, dict):
        return PageRef(where=where, version=version, canvas=canvas, page={})
    inline = "items" in item or "resources" in item
    url = ident(item)
    if inline or not url:
        return PageRef(where=where, version=version, canvas=canvas, page=item)
    return PageRef(where=where, version=version, canvas=canvas, url=url)


def read_page(ref: PageRef, data: Any, where: str | None = None) -> PageContent:
    """The annotations of one page (inline, or `data` fetched from `ref.url`)."""
    where = where or ref.where
    out = PageContent()
    if not isinstance(data, dict):
        out.skipped.append(Skipped(where, "is not an annotation page (not a JSON object)"))
        return out
    kind = _type(data)
    if kind in _COLLECTION:
        # A referenced collection of pages: read its first page.
        first = data.get("first")
        if isinstance(first, dict) and ("items" in first or "resources" in first):
            inner = read_page(ref, first, f"{where}.first")
            if inner.next is None and isinstance(first.get("next"), str | dict):
                inner.next = ident(first.get("next"))
            return inner
        out.next = ident(first)
        if out.next is None:
            out.skipped.append(Skipped(where, f"the {kind} has no first page"))
        return out
    expected = _P3_PAGE if ref.version == 3 else _P2_PAGE | _P3_PAGE
    if kind and kind not in expected:
        name = "an AnnotationPage" if ref.version == 3 else "an sc:AnnotationList"
        out.skipped.append(Skipped(where, f"is a {kind!r}, not {name}"))
        return out
    key = "resources" if "resources" in data else "items"
    items = data.get(key)
    if not isinstance(items, list):
        out.skipped.append(Skipped(where, f"an annotation page lists its annotations in {key}"))
        return out
    page_id = ident(data) or ref.url or ref.where
    for index, item in enumerate(items):
        place = f"{where}.{key}[{index}]"
        if not isinstance(item, dict) or _type(item) not in ("Annotation", "oa:Annotation"):
            out.skipped.append(Skipped(place, "is not an annotation"))
            continue
        if ref.painting_page and "painting" in [
            str(m).removeprefix("sc:") for m in as_list(item.get("motivation", "painting"))
        ]:
            continue  # what the Scene shows, not something said about it
        annotation = _from_p2(item) if _is_p2(item) else _from_p3(item)
        source = ident(item) or _stable_iri(page_id, ref.canvas, item)
        out.annotations.append(Carried(place, annotation, ref.canvas, source))
    next_page = data.get("next")
    out.next = ident(next_page) if next_page else None
    return out


def _stable_iri(page_id: str, canvas: str | None, item: dict[str, Any]) -> str:
    # Publishers' inline annotations often have no id: the same annotation on the same page
    # must map to the same IRI on every import, so it is never imported twice.
    digest = hashlib.sha256(
        json.dumps([page_id, canvas, item], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:24]
    base = page_id if "://" in page_id else (canvas or "urn:sinopia:import")
    return f"{base.split('#')[0]}#annotation-{digest}"


def _is_p2(item: dict[str, Any]) -> bool:
    return "on" in item or "resource" in item or _type(item) == "oa:Annotation"


# ---------------------------------------------------------------------------- Presentation 3


def _label(value: Any) -> str | None:
    try:
        text = pick(language_map(value))
    except ValueError:
        return None
    return text or None


def _motivation(value: Any) -> Any:
    names = [
        m.removeprefix("oa:").removeprefix("sc:") for m in as_list(value) if isinstance(m, str)
    ]
    if not names:
        return value
    # One motivation is stored; a comment that is also a tag is a comment with a tag body.
    for preferred in ("commenting", "supplementing", "tagging"):
        if preferred in names:
            return preferred
    return names[0]


def _p3_body(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    out = dict(body)
    if "label" in out and not isinstance(out["label"], str):
        label = _label(out["label"])
        if label:
            out["label"] = label
        else:
            del out["label"]
    if _type(out) == "SpecificResource" and isinstance(out.get("source"), dict):
        out["source"] = _p3_body(out["source"])
    if isinstance(out.get("language"), list):
        out["language"] = next((v for v in out["language"] if isinstance(v, str)), None)
    return out


def _camera(scope: Any) -> dict[str, Any] | None:
    """The camera view of a 3D draft target's content-state `scope`, as `sinopia:camera`:
    the PerspectiveCamera it paints, placed at a point, looking at another."""
    if not isinstance(scope, dict):
        return None
    pages = (
        as_list(scope.get("target", {}).get("items"))
        if isinstance(scope.get("target"), dict)
        else []
    )
    for page in pages:
        for placed in as_list(page.get("items")) if isinstance(page, dict) else []:
            if not isinstance(placed, dict):
                continue
            body = next(iter(as_list(placed.get("body"))), None)
            if not isinstance(body, dict) or _type(body) != "PerspectiveCamera":
                continue
            look = body.get("lookAt")
            target = placed.get("target")
            selector = (
                next(iter(as_list(target.get("selector"))), None)
                if isinstance(target, dict)
                else None
            )
            try:
                camera: dict[str, Any] = {
                    "position": [float(selector[k]) for k in "xyz"],  # type: ignore[index]
                    "target": [float(look[k]) for k in "xyz"],  # type: ignore[index]
                }
            except (TypeError, KeyError, ValueError):
                return None
            if isinstance(body.get("fieldOfView"), int | float):
                camera["fieldOfView"] = float(body["fieldOfView"])
            return camera
    return None


def _p3_target(target: Any) -> Any:
    if not isinstance(target, dict) or _type(target) != "SpecificResource":
        return target
    out = {k: v for k, v in target.items() if k not in ("scope", "id")}
    sources = as_list(out.get("source"))
    if len(sources) == 1:
        out["source"] = sources[0]  # the 3D draft lists its one Scene
    camera = _camera(target.get("scope"))
    if camera is not None:
        selectors = []
        for selector in as_list(out.get("selector")):
            if isinstance(selector, dict) and "z" in selector and "sinopia:camera" not in selector:
                selector = {**selector, "sinopia:camera": camera}
            selectors.append(selector)
        out["selector"] = selectors
    return out


def _from_p3(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k not in ("@context", "label", "service")}
    if "motivation" in out:
        out["motivation"] = _motivation(out["motivation"])
    if "body" in out:
        bodies = [_p3_body(b) for b in as_list(out["body"])]
        out["body"] = bodies
    if isinstance(out.get("bodyValue"), dict):
        out["body"] = [_p3_body(out.pop("bodyValue"))]  # as the 3D draft writes it
    if "target" in out:
        out["target"] = [_p3_target(t) for t in as_list(out["target"])]
    return out


# ---------------------------------------------------------------------------- Presentation 2


def _p2_body(resource: Any) -> Any:
    if isinstance(resource, str):
        return {"id": resource}
    if not isinstance(resource, dict):
        return resource
    kind = _type(resource)
    chars = resource.get("chars", resource.get("value"))
    if kind in _P2_TEXT or kind in _P2_TAG or (isinstance(chars, str) and not ident(resource)):
        body: dict[str, Any] = {"type": "TextualBody", "value": chars if chars else ""}
        fmt = resource.get("format")
        body["format"] = fmt if isinstance(fmt, str) else "text/plain"
        language = resource.get("language", resource.get("@language"))
        if isinstance(language, str):
            body["language"] = language
        if kind in _P2_TAG:
            body["purpose"] = "tagging"
        return body
    out: dict[str, Any] = {"id": ident(resource)}
    if kind:
        out["type"] = kind.split(":")[-1]
    label = _label(resource.get("label"))
    if label:
        out["label"] = label
    if isinstance(resource.get("format"), str):
        out["format"] = resource["format"]
    return out


def _p2_selectors(selector: Any) -> list[Any]:
    out: list[Any] = []
    for item in as_list(selector):
        if not isinstance(item, dict):
            continue
        kind = _type(item)
        if kind in ("oa:Choice", "Choice"):
            # Mirador 2: the rectangle as default, the drawn shape as item.
            out += _p2_selectors([item.get("default"), *as_list(item.get("item"))])
            continue
        converted = {k: v for k, v in item.items() if not k.startswith("@")}
        converted["type"] = kind.split(":")[-1] or "FragmentSelector"
        out.append(converted)
    return out


def _p2_target(on: Any) -> Any:
    if isinstance(on, str) or not isinstance(on, dict):
        return on
    source = on.get("full", on.get("source"))
    within = on.get("within")
    target: dict[str, Any] = {"type": "SpecificResource"}
    source_id = ident(source)
    manifest = ident(source.get("within")) if isinstance(source, dict) else None
    manifest = manifest or ident(within)
    target["source"] = (
        {"id": source_id, "type": "Canvas", "partOf": [{"id": manifest, "type": "Manifest"}]}
        if source_id and manifest
        else source_id
    )
    selectors = _p2_selectors(on.get("selector"))
    if selectors:
        target["selector"] = selectors[0] if len(selectors) == 1 else selectors
    return target


def _from_p2(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Annotation"}
    if ident(item):
        out["id"] = ident(item)
    resources = as_list(item.get("resource", item.get("body")))
    motivation = _motivation(item.get("motivation", "commenting"))
    textual = any(isinstance(r, dict) and _type(r) not in ("dctypes:Image",) for r in resources)
    if motivation == "painting" and textual:
        # Publishers paint transcriptions onto P2 canvases; Presentation 3 calls that
        # supplementing, and painting is kept for the images themselves.
        motivation = "supplementing"
    out["motivation"] = motivation
    out["body"] = [_p2_body(r) for r in resources]
    out["target"] = [_p2_target(t) for t in as_list(item.get("on", item.get("target")))]
    creator = item.get("annotatedBy", item.get("creator"))
    if isinstance(creator, dict):
        name = creator.get("name", creator.get("foaf:name"))
        agent: dict[str, Any] = {"type": "Person"}
        if ident(creator):
            agent["id"] = ident(creator)
        if isinstance(name, str):
            agent["name"] = name
        out["creator"] = agent
    elif isinstance(creator, str):
        out["creator"] = {"id": creator} if "://" in creator else {"name": creator}
    created = item.get("annotatedAt", item.get("created"))
    if isinstance(created, str):
        out["created"] = created
    return out
