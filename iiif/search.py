"""IIIF Content Search 2.0 and 1.0 over annotation JSON.

Pure functions: the caller passes the search service URL it is answering on, the request's
query parameters, and the candidate annotations (one workspace's, which is how workspaces
stay apart); they return the response JSON.

Matching: `q` words match words in bodies (case- and accent-insensitive, as word prefixes,
so "crack" finds "cracks"); `q` terms that are URIs match linked body resources (e.g. an AAT
term). Results are ordered by how many terms matched, then newest first. `motivation`,
`date` (creation time within any of the ranges) and `user` (creator id or name) filter.
Parameters we do not implement are listed in `ignored`, as both specs ask.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from .errors import SearchQueryError
from .webannotations import (
    as_list,
    creators,
    linked_ids,
    motivations,
    targets,
    texts,
    timestamp,
)

PRESENTATION_2 = "http://iiif.io/api/presentation/2/context.json"
PRESENTATION_3 = "http://iiif.io/api/presentation/3/context.json"
SEARCH_1 = "http://iiif.io/api/search/1/context.json"
SEARCH_2 = "http://iiif.io/api/search/2/context.json"

SUPPORTED = ("q", "motivation", "date", "user")
DEFAULT_PAGE_SIZE = 50
MAX_QUERY_CHARS = 1000
_CONTEXT_CHARS = 40

_WORD = re.compile(r"\w+")
_DATE_RANGE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$"
)


def _fold(text: str) -> str:
    """Lower case without accents: "Étude" and "etude" are the same word to a searcher."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _is_uri(term: str) -> bool:
    return "://" in term or term.startswith("urn:")


class SearchQuery(BaseModel):
    """A parsed search request. `params` keeps the supported parameters as given, in a fixed
    order, for building page links."""

    model_config = ConfigDict(frozen=True)

    words: list[str] = Field(default_factory=list)
    uris: list[str] = Field(default_factory=list)
    motivations: list[str] = Field(default_factory=list)
    dates: list[tuple[datetime, datetime]] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)
    params: list[tuple[str, str]] = Field(default_factory=list)

    @classmethod
    def from_params(
        cls, params: Mapping[str, str], *, supported: Iterable[str] = SUPPORTED
    ) -> SearchQuery:
        """Read request parameters; `page` is paging, not a search parameter. Parameters not
        in `supported` are ignored and reported. Raises SearchQueryError for a malformed
        `date` or an overlong query."""
        allowed = set(supported)
        fields: dict[str, Any] = {"ignored": [], "params": []}
        for name in sorted(params, key=lambda n: (n not in SUPPORTED, n)):
            value = params[name]
            if name == "page":
                continue
            if name not in allowed:
                fields["ignored"].append(name)
                continue
            if len(value) > MAX_QUERY_CHARS:
                raise SearchQueryError(f"{name} is longer than {MAX_QUERY_CHARS} characters")
            fields["params"].append((name, value))
            parts = value.split()
            if name == "q":
                fields["uris"] = [p for p in parts if _is_uri(p)]
                words = [_fold(w) for p in parts if not _is_uri(p) for w in _WORD.findall(p)]
                fields["words"] = list(dict.fromkeys(words))
            elif name == "motivation":
                fields["motivations"] = [p.removeprefix("oa:").removeprefix("sc:") for p in parts]
            elif name == "date":
                fields["dates"] = [_date_range(p) for p in parts]
            elif name == "user":
                fields["users"] = parts
        fields["ignored"].sort()
        return cls(**fields)


def _date_range(text: str) -> tuple[datetime, datetime]:
    match = _DATE_RANGE.match(text)
    if not match:
        raise SearchQueryError(
            f"date {text!r} is not a range YYYY-MM-DDThh:mm:ssZ/YYYY-MM-DDThh:mm:ssZ"
        )
    try:
        start, end = (
            datetime.strptime(g, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for g in match.groups()
        )
    except ValueError:
        raise SearchQueryError(f"date {text!r} names a day or time that does not exist") from None
    if end < start:
        raise SearchQueryError(f"date {text!r} ends before it starts")
    return start, end


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching annotation with its score and the places its text matched."""

    annotation: dict[str, Any]
    matched: int
    quotes: list[tuple[str, str, str]]  # (before, exact, after)


_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def find(annotations: Iterable[dict[str, Any]], query: SearchQuery) -> list[Hit]:
    """The annotations that match, most relevant first (terms matched, then newest)."""
    hits: list[tuple[Hit, datetime]] = []
    for annotation in annotations:
        if not isinstance(annotation, dict):
            continue
        if query.motivations and not set(motivations(annotation)) & set(query.motivations):
            continue
        if query.users and not set(creators(annotation)) & set(query.users):
            continue
        created = timestamp(annotation, "created")
        if query.dates and not (
            created and any(start <= created <= end for start, end in query.dates)
        ):
            continue
        matched, quotes = _match(annotation, query)
        if (query.words or query.uris) and matched == 0:
            continue
        newest = timestamp(annotation, "modified") or created or _EPOCH
        hits.append((Hit(annotation=annotation, matched=matched, quotes=quotes), newest))
    hits.sort(key=lambda pair: str(pair[0].annotation.get("id", "")))
    hits.sort(key=lambda pair: (pair[0].matched, pair[1]), reverse=True)
    return [hit for hit, _ in hits]


def _match(
    annotation: dict[str, Any], query: SearchQuery
) -> tuple[int, list[tuple[str, str, str]]]:
    matched = 0
    quotes: list[tuple[str, str, str]] = []
    bodies = texts(annotation)
    for word in query.words:
        found = False
        for text in bodies:
            for token in _WORD.finditer(text):
                if _fold(token.group()).startswith(word):
                    found = True
                    start, end = token.span()
                    quotes.append(
                        (
                            text[max(0, start - _CONTEXT_CHARS) : start],
                            text[start:end],
                            text[end : end + _CONTEXT_CHARS],
                        )
                    )
                    break
            if found:
                break
        matched += found
    links = set(linked_ids(annotation))
    matched += sum(uri in links for uri in query.uris)
    return matched, quotes


def _page_url(service_url: str, query: SearchQuery, page: int | None) -> str:
    params = list(query.params)
    if page is not None:
        params.append(("page", str(page)))
    return f"{service_url}?{urlencode(params)}" if params else service_url


def _page_number(params: Mapping[str, str], first: int) -> int:
    raw = params.get("page")
    if raw is None or raw == "":
        return first
    if not raw.isdigit() or int(raw) < first:
        raise SearchQueryError(f"page must be a whole number from {first}")
    return int(raw)


def search_v2(
    service_url: str,
    params: Mapping[str, str],
    annotations: Iterable[dict[str, Any]],
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    supported: Iterable[str] = SUPPORTED,
) -> dict[str, Any]:
    """A Content Search 2.0 response: an AnnotationPage (pages numbered from 1) that is part
    of an AnnotationCollection with the `total`, plus `highlighting` annotations quoting the
    matched words and `ignored` when parameters were not used."""
    query = SearchQuery.from_params(params, supported=supported)
    page = _page_number(params, 1)
    hits = find(annotations, query)
    last = max(1, -(-len(hits) // page_size))
    chosen = hits[(page - 1) * page_size : page * page_size]
    page_id = _page_url(service_url, query, page)
    response: dict[str, Any] = {
        "@context": [PRESENTATION_3, SEARCH_2],
        "id": page_id,
        "type": "AnnotationPage",
        "startIndex": (page - 1) * page_size,
        "partOf": {
            "id": _page_url(service_url, query, None),
            "type": "AnnotationCollection",
            "total": len(hits),
            "first": {"id": _page_url(service_url, query, 1), "type": "AnnotationPage"},
            "last": {"id": _page_url(service_url, query, last), "type": "AnnotationPage"},
        },
    }
    if page < last:
        response["next"] = {"id": _page_url(service_url, query, page + 1), "type": "AnnotationPage"}
    if page > 1:
        previous = min(page - 1, last)
        response["prev"] = {"id": _page_url(service_url, query, previous), "type": "AnnotationPage"}
    if query.ignored:
        response["ignored"] = query.ignored
    response["items"] = [
        {k: v for k, v in hit.annotation.items() if k != "@context"} for hit in chosen
    ]
    highlights = []
    for hit in chosen:
        for before, exact, after in hit.quotes:
            highlights.append(
                {
                    "id": f"{page_id}#hit-{len(highlights) + 1}",
                    "type": "Annotation",
                    "motivation": "highlighting",
                    "target": {
                        "type": "SpecificResource",
                        "source": hit.annotation.get("id"),
                        "selector": [
                            {
                                "type": "TextQuoteSelector",
                                "prefix": before,
                                "exact": exact,
                                "suffix": after,
                            }
                        ],
                    },
                }
            )
    if highlights:
        response["annotations"] = [{"type": "AnnotationPage", "items": highlights}]
    return response


def _oa_annotation(annotation: dict[str, Any]) -> dict[str, Any]:
    """A Web Annotation as the Presentation 2 / Open Annotation shape 1.0 clients read."""
    resources: list[dict[str, Any]] = []
    for body in as_list(annotation.get("body")):
        if isinstance(body, dict) and isinstance(body.get("value"), str):
            resource = {
                "@type": "dctypes:Text",
                "format": body.get("format", "text/plain"),
                "chars": body["value"],
            }
            if body.get("language"):
                resource["language"] = body["language"]
            resources.append(resource)
        elif isinstance(body, dict) and isinstance(body.get("source"), dict):
            source = body["source"]
            resources.append({"@id": source.get("id"), "label": source.get("label")})
        elif isinstance(body, dict) and isinstance(body.get("id"), str):
            resources.append({"@id": body["id"], "label": body.get("label")})
    on: list[Any] = []
    for target in targets(annotation):
        if target.xywh:
            on.append(f"{target.source}#xywh={target.xywh}")
        elif target.point:
            x, y = (int(v) for v in target.point)
            on.append(f"{target.source}#xywh={x},{y},1,1")
        elif target.svg:
            on.append(
                {
                    "@type": "oa:SpecificResource",
                    "full": target.source,
                    "selector": {"@type": "oa:SvgSelector", "value": target.svg},
                }
            )
        else:
            on.append(target.source)
    motivation = motivations(annotation)
    return {
        "@id": annotation.get("id"),
        "@type": "oa:Annotation",
        "motivation": [f"oa:{m}" if m != "painting" else "sc:painting" for m in motivation],
        "resource": resources[0] if len(resources) == 1 else resources,
        "on": on[0] if len(on) == 1 else on,
    }


def search_v1(
    service_url: str,
    params: Mapping[str, str],
    annotations: Iterable[dict[str, Any]],
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    supported: Iterable[str] = SUPPORTED,
) -> dict[str, Any]:
    """A Content Search 1.0 response: an `sc:AnnotationList` (pages numbered from 0) `within`
    a layer giving the `total` and `ignored`, with `hits` quoting the matched words."""
    query = SearchQuery.from_params(params, supported=supported)
    page = _page_number(params, 0)
    hits = find(annotations, query)
    last = max(0, -(-len(hits) // page_size) - 1)
    chosen = hits[page * page_size : (page + 1) * page_size]
    within: dict[str, Any] = {
        "@type": "sc:Layer",
        "total": len(hits),
        "first": _page_url(service_url, query, 0),
        "last": _page_url(service_url, query, last),
    }
    if query.ignored:
        within["ignored"] = query.ignored
    response: dict[str, Any] = {
        "@context": [PRESENTATION_2, SEARCH_1],
        "@id": _page_url(service_url, query, page),
        "@type": "sc:AnnotationList",
        "within": within,
        "startIndex": page * page_size,
    }
    if page < last:
        response["next"] = _page_url(service_url, query, page + 1)
    if page > 0:
        response["prev"] = _page_url(service_url, query, min(page - 1, last))
    response["resources"] = [_oa_annotation(hit.annotation) for hit in chosen]
    if query.words or query.uris:
        response["hits"] = [_hit_v1(hit) for hit in chosen]
    return response


def _hit_v1(hit: Hit) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "search:Hit", "annotations": [hit.annotation.get("id")]}
    if hit.quotes:
        before, exact, after = hit.quotes[0]
        out |= {"match": exact, "before": before, "after": after}
    return out
