"""Turtle: the RDF view of the JSON-LD this product emits, for clients that ask for it
(the W3C Web Annotation Protocol says servers SHOULD offer it).

rdflib does the JSON-LD to RDF to Turtle work. It would fetch the remote contexts the
documents name; instead the terms they use are defined here, as the Web Annotation
vocabulary (https://www.w3.org/TR/annotation-vocab/), Activity Streams and LDP define
them, so nothing is fetched and the result does not depend on the network.
"""

from __future__ import annotations

from typing import Any

from rdflib import Graph

from .jsonld import LDP_CONTEXT, W3C_CONTEXT

OA = "http://www.w3.org/ns/oa#"
_IRI = "@id"

_MOTIVATIONS = (
    "assessing bookmarking classifying commenting describing editing highlighting "
    "identifying linking moderating questioning replying tagging"
).split()

_CONTEXT: dict[str, Any] = {
    "oa": OA,
    "as": "https://www.w3.org/ns/activitystreams#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "dctypes": "http://purl.org/dc/dcmitype/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "ldp": "http://www.w3.org/ns/ldp#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "iiif": "http://iiif.io/api/annex/openannotation/",
    "id": "@id",
    "type": "@type",
    # classes
    "Annotation": "oa:Annotation",
    "TextualBody": "oa:TextualBody",
    "SpecificResource": "oa:SpecificResource",
    "Choice": "oa:Choice",
    "FragmentSelector": "oa:FragmentSelector",
    "SvgSelector": "oa:SvgSelector",
    "PointSelector": "iiif:PointSelector",
    "Person": "foaf:Person",
    "Organization": "foaf:Organization",
    "Software": "as:Application",
    "Image": "dctypes:StillImage",
    "Text": "dctypes:Text",
    "Dataset": "dctypes:Dataset",
    "AnnotationCollection": "as:OrderedCollection",
    "AnnotationPage": "as:OrderedCollectionPage",
    "BasicContainer": "ldp:BasicContainer",
    # relations to resources
    "body": {"@id": "oa:hasBody", "@type": _IRI},
    "target": {"@id": "oa:hasTarget", "@type": _IRI},
    "source": {"@id": "oa:hasSource", "@type": _IRI},
    "selector": {"@id": "oa:hasSelector", "@type": _IRI},
    "refinedBy": {"@id": "oa:refinedBy", "@type": _IRI},
    "creator": {"@id": "dcterms:creator", "@type": _IRI},
    "generator": {"@id": "as:generator", "@type": _IRI},
    "canonical": {"@id": "oa:canonical", "@type": _IRI},
    "via": {"@id": "oa:via", "@type": _IRI},
    "conformsTo": {"@id": "dcterms:conformsTo", "@type": _IRI},
    "partOf": {"@id": "as:partOf", "@type": _IRI},
    "first": {"@id": "as:first", "@type": _IRI},
    "last": {"@id": "as:last", "@type": _IRI},
    "next": {"@id": "as:next", "@type": _IRI},
    "prev": {"@id": "as:prev", "@type": _IRI},
    "items": {"@id": "as:items", "@type": _IRI, "@container": "@list"},
    "contains": {"@id": "ldp:contains", "@type": _IRI},
    # controlled values: motivations and purposes are oa: individuals
    "motivation": {"@id": "oa:motivatedBy", "@type": "@vocab"},
    "purpose": {"@id": "oa:hasPurpose", "@type": "@vocab"},
    **{m: f"oa:{m}" for m in _MOTIVATIONS},
    # literals
    "value": "rdf:value",
    "bodyValue": "oa:bodyValue",
    "format": "dc:format",
    "language": "dc:language",
    "name": "foaf:name",
    "nickname": "foaf:nick",
    "label": "rdfs:label",
    "created": {"@id": "dcterms:created", "@type": "xsd:dateTime"},
    "modified": {"@id": "dcterms:modified", "@type": "xsd:dateTime"},
    "total": {"@id": "as:totalItems", "@type": "xsd:nonNegativeInteger"},
    "startIndex": {"@id": "as:startIndex", "@type": "xsd:nonNegativeInteger"},
    "x": "iiif:x",
    "y": "iiif:y",
    "t": "iiif:t",
}


def _local_context(node: Any) -> Any:
    """`node` with the remote contexts it names replaced by the definitions above."""
    if isinstance(node, dict):
        out = {k: _local_context(v) for k, v in node.items() if k != "@context"}
        context = node.get("@context")
        names = context if isinstance(context, list) else [context]
        if context is not None:
            local = [c for c in names if isinstance(c, dict)]
            unknown = [
                c for c in names if isinstance(c, str) and c not in (W3C_CONTEXT, LDP_CONTEXT)
            ]
            if unknown:
                raise ValueError(f"no local definition of the context {unknown[0]}")
            out["@context"] = [_CONTEXT, *local]
        return out
    if isinstance(node, list):
        return [_local_context(v) for v in node]
    return node


def to_turtle(data: dict[str, Any]) -> str:
    """The Turtle of one annotation, a container or a page, as this product emits them."""
    graph = Graph()
    graph.bind("oa", OA)
    graph.bind("as", _CONTEXT["as"])
    graph.bind("dcterms", _CONTEXT["dcterms"])
    graph.bind("ldp", _CONTEXT["ldp"])
    graph.parse(data=_local_context(data), format="json-ld")
    return graph.serialize(format="turtle")
