"""W3C JSON-LD in and out: what the annotation container of a subject serves and accepts.

The container IRI (`https://host/api/annotations/{workspace}/{kind}/{id}/`) turns local ids
into annotation IRIs; everything else is the stored JSON form unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from .models import ID_PATTERN, Annotation
from .problems import Invalid, Problem, from_validation_error

W3C_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
LDP_CONTEXT = "http://www.w3.org/ns/ldp.jsonld"
# Annotations inside IIIF Presentation 3 documents carry this context instead.
IIIF_CONTEXT = "http://iiif.io/api/presentation/3/context.json"


def container_iri(container: str) -> str:
    """The container IRI with exactly one trailing slash, so ids can be appended."""
    return container.rstrip("/") + "/"


def annotation_iri(container: str, annotation_id: str) -> str:
    return container_iri(container) + annotation_id


def _resolve(value: str, container: str) -> str:
    return container + value if ID_PATTERN.fullmatch(value) else value


def _localize(value: str, container: str) -> str:
    local = value.removeprefix(container)
    return local if local != value and ID_PATTERN.fullmatch(local) else value


def to_jsonld(annotation: Annotation, container: str) -> dict[str, Any]:
    """The W3C JSON-LD of one annotation: full IRIs for it and for the annotations it replies
    to, and the Web Annotation `@context`."""
    container = container_iri(container)
    data = annotation.to_json()
    data["id"] = container + annotation.id
    targets = data["target"] if isinstance(data["target"], list) else [data["target"]]
    resolved: list[Any] = []
    for target in targets:
        if isinstance(target, str):
            target = _resolve(target, container)
        elif isinstance(target.get("source"), str):
            target = {**target, "source": _resolve(target["source"], container)}
        elif (
            isinstance(target.get("source"), dict) and target["source"].get("type") == "Annotation"
        ):
            source = target["source"]
            target = {**target, "source": {**source, "id": _resolve(source["id"], container)}}
        resolved.append(target)
    data["target"] = resolved[0] if len(resolved) == 1 else resolved
    return {"@context": W3C_CONTEXT, **data}


def parse_annotation(data: Any, container: str, *, id: str | None = None) -> Annotation:
    """An annotation from W3C JSON-LD (a REST body, an import), validated.

    `id` is the annotation's local id when the caller decides it (a PUT to its IRI, or a new
    id for a POST); otherwise the body's `id` must be in this container. Raises `Invalid`
    listing every problem.
    """
    container = container_iri(container)
    if not isinstance(data, dict):
        raise Invalid([Problem(path="", message="an annotation must be a JSON object")])
    problems: list[Problem] = []
    context = data.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if context is not None and W3C_CONTEXT not in contexts and IIIF_CONTEXT not in contexts:
        problems.append(
            Problem(path="@context", message=f"the @context must be or include {W3C_CONTEXT}")
        )
    kind = data.get("type", data.get("@type"))
    if kind not in ("Annotation", "oa:Annotation"):
        problems.append(Problem(path="type", message="type must be 'Annotation'"))
    fields = {k: v for k, v in data.items() if k not in ("@context", "@type", "type")}
    if id is None:
        given = fields.get("id")
        if not isinstance(given, str):
            problems.append(Problem(path="id", message="the annotation has no id"))
        else:
            local = _localize(given, container)
            if not ID_PATTERN.fullmatch(local):
                problems.append(
                    Problem(path="id", message=f"{given[:80]!r} is not an id in {container}")
                )
            id = local
    fields["id"] = id
    if "bodyValue" in fields:
        # W3C's shorthand for one plain-text body.
        if "body" in fields:
            problems.append(Problem(path="bodyValue", message="give body or bodyValue, not both"))
        fields["body"] = {"type": "TextualBody", "value": fields.pop("bodyValue")}
    fields["target"] = _localize_targets(fields.get("target"), container)
    if problems:
        raise Invalid(problems)
    try:
        return Annotation.model_validate(fields)
    except ValidationError as error:
        raise Invalid(from_validation_error(error)) from None


def _localize_targets(value: Any, container: str) -> Any:
    if isinstance(value, str):
        return _localize(value, container)
    if isinstance(value, list):
        return [_localize_targets(v, container) for v in value]
    if isinstance(value, dict) and isinstance(value.get("source"), str):
        return {**value, "source": _localize(value["source"], container)}
    if isinstance(value, dict) and isinstance(value.get("source"), dict):
        source = value["source"]
        if source.get("type") == "Annotation" and isinstance(source.get("id"), str):
            return {**value, "source": {**source, "id": _localize(source["id"], container)}}
    return value


def container_page(
    container: str, annotations: Iterable[Annotation], *, label: str | None = None
) -> dict[str, Any]:
    """The container as the W3C Web Annotation Protocol serves it, every annotation embedded
    in one page (subjects hold hundreds of annotations, not millions)."""
    container = container_iri(container)
    items = [to_jsonld(a, container) for a in annotations]
    for item in items:
        del item["@context"]
    page: dict[str, Any] = {
        "@context": [W3C_CONTEXT, LDP_CONTEXT],
        "id": container,
        "type": ["BasicContainer", "AnnotationCollection"],
        "total": len(items),
        "first": {
            "id": container + "?page=0",
            "type": "AnnotationPage",
            "startIndex": 0,
            "items": items,
        },
        "last": container + "?page=0",
    }
    if label:
        page["label"] = label
    return page
