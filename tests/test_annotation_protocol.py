"""W3C Web Annotation Protocol conformance, against a real server over HTTP.

One test (or one block of a test) per MUST and SHOULD of the protocol
(https://www.w3.org/TR/annotation-protocol/), named by its section. The server runs with
5 annotations per page and the container holds 12, so paging is exercised across first,
middle and last pages. Every annotation the server emits goes through the W3C data model
checker of tests/test_annotations_jsonld.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rdflib import RDF, Graph, Namespace, URIRef

from .conftest import Running, ServerFactory
from .test_annotations_jsonld import assert_w3c_annotation
from .test_iiif_manifests import load

W3C = "http://www.w3.org/ns/anno.jsonld"
LDP = "http://www.w3.org/ns/ldp.jsonld"
JSONLD = f'application/ld+json; profile="{W3C}"'
BASIC_CONTAINER = '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'
CONSTRAINED_BY = (
    '<http://www.w3.org/TR/annotation-protocol/>; rel="http://www.w3.org/ns/ldp#constrainedBy"'
)
RESOURCE = '<http://www.w3.org/ns/ldp#Resource>; rel="type"'
PREFER_MINIMAL = "http://www.w3.org/ns/ldp#PreferMinimalContainer"
PREFER_IRIS = "http://www.w3.org/ns/oa#PreferContainedIRIs"
PREFER_DESCRIPTIONS = "http://www.w3.org/ns/oa#PreferContainedDescriptions"
PAGE_SIZE = 5
COUNT = 12
WORKSPACE = "museum"


def prefer(*iris: str) -> dict[str, str]:
    return {"Prefer": f'return=representation;include="{" ".join(iris)}"'}


class Setup:
    def __init__(self, server: Running, http: httpx.AsyncClient) -> None:
        self.server = server
        self.http = http
        self.container = ""
        self.path = ""
        self.canvas = ""
        self.width = self.height = 0
        self.ids: list[str] = []

    def annotation(self, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "@context": W3C,
            "type": "Annotation",
            "motivation": "commenting",
            "body": {"type": "TextualBody", "value": text, "format": "text/plain"},
            "target": {
                "type": "SpecificResource",
                "source": self.canvas,
                "selector": {
                    "type": "FragmentSelector",
                    "conformsTo": "http://www.w3.org/TR/media-frags/",
                    "value": "xywh=100,200,300,400",
                },
            },
            **extra,
        }

    async def post(self, data: Any, **headers: str) -> httpx.Response:
        return await self.http.post(
            self.path, json=data, headers={"Content-Type": JSONLD, **headers}
        )


@pytest.fixture
async def setup(make_server: ServerFactory) -> Any:
    server = await make_server(annotation_page_size=PAGE_SIZE)
    server.workspace(WORKSPACE)
    async with server.http() as http:
        imported = await http.post(
            f"/api/iiif/{WORKSPACE}/import", json=load("p3_book_of_hours.json")
        )
        assert imported.status_code == 200, imported.text
        subject = imported.json()["subjects"][0]
        s = Setup(server, http)
        s.container = subject["annotations"]
        s.path = s.container.removeprefix(server.url)
        s.canvas, s.width, s.height = subject["iiif_id"], subject["width"], subject["height"]
        for i in range(COUNT):
            made = await s.post(s.annotation(f"Note {i:02d} on the hem"))
            assert made.status_code == 201, made.text
            s.ids.append(made.headers["location"])
        yield s


def links(response: httpx.Response) -> list[str]:
    return [v.strip() for h in response.headers.get_list("link") for v in h.split(", <")]


def has_link(response: httpx.Response, link: str) -> bool:
    values = ", ".join(response.headers.get_list("link"))
    return link.removeprefix("<") in values


# ---------------------------------------------------------------------------- 4. retrieval


async def test_4_annotation_retrieval(setup: Setup) -> None:
    http, iri = setup.http, setup.ids[0]
    # MUST support GET, HEAD and OPTIONS on the annotation's IRI.
    got = await http.get(iri, headers={"Accept": JSONLD})
    head = await http.head(iri, headers={"Accept": JSONLD})
    options = await http.options(iri)
    # SHOULD use 200 when nothing went wrong.
    assert got.status_code == 200 and head.status_code == 200, got.text
    assert options.status_code in (200, 204)
    assert head.content == b""
    # MUST be JSON-LD with Content-Type application/ld+json, SHOULD with the profile.
    assert got.headers["content-type"] == JSONLD
    data = got.json()
    assert data["@context"] == W3C and data["id"] == iri
    assert_w3c_annotation(data)
    # MUST have a Link to ldp#Resource with rel="type" (oa#Annotation MAY be added).
    assert has_link(got, RESOURCE) and has_link(head, RESOURCE)
    # MUST have an ETag; HEAD gives the same headers as GET.
    assert got.headers["etag"].startswith('"') and head.headers["etag"] == got.headers["etag"]
    # MUST have an Allow header listing the methods.
    for response in (got, head, options):
        assert {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"} <= {
            m.strip() for m in response.headers["allow"].split(",")
        }
    # MUST have Vary with Accept: we negotiate.
    assert "Accept" in got.headers["vary"]
    # SHOULD use HTTPS: IRIs follow the scheme the client used, so behind a TLS proxy
    # (X-Forwarded-Proto) they are https.
    proxied = await http.get(iri, headers={"X-Forwarded-Proto": "https"})
    assert proxied.json()["id"].startswith("https://")


OA = Namespace("http://www.w3.org/ns/oa#")
AS = Namespace("https://www.w3.org/ns/activitystreams#")


async def test_4_content_negotiation(setup: Setup) -> None:
    http, iri = setup.http, setup.ids[0]
    plain = await http.get(iri, headers={"Accept": "application/json"})
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["id"] == iri
    for accept in (None, "*/*", "application/ld+json", "application/*", JSONLD):
        answer = await http.get(iri, headers={"Accept": accept} if accept else {})
        assert answer.headers["content-type"] == JSONLD, accept
    # SHOULD offer Turtle: the same annotation as an RDF graph.
    turtle = await http.get(iri, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.text, format="turtle")
    subject = URIRef(iri)
    assert (subject, RDF.type, OA.Annotation) in graph
    assert graph.value(subject, OA.hasTarget) is not None
    assert graph.value(subject, OA.motivatedBy) is not None
    assert turtle.headers["etag"] and turtle.headers["etag"] != plain.headers["etag"]
    container = await http.get(setup.path, headers={"Accept": "text/turtle"})
    pages = Graph().parse(data=container.text, format="turtle")
    collections = list(pages.subjects(RDF.type, AS.OrderedCollection))
    # The collection is the variant served (its Content-Location), under the container IRI.
    assert [str(c) for c in collections] == [
        str(container.url.join(container.headers["content-location"]))
    ]
    assert str(collections[0]).startswith(setup.container)
    # A profile we do not serve, or a format we do not have: 406, said so.
    for accept in ("text/html", 'application/ld+json;profile="http://example.org/other"'):
        refused = await http.get(iri, headers={"Accept": accept})
        assert refused.status_code == 406, accept
        assert refused.headers["content-type"] == "application/problem+json"
        assert "application/json" in refused.json()["detail"]
    # q-values are honoured.
    chosen = await http.get(iri, headers={"Accept": "application/ld+json;q=0.5, application/json"})
    assert chosen.headers["content-type"] == "application/json"
    # Conditional GET: If-None-Match with the current tag is 304.
    tag = plain.headers["etag"]
    again = await http.get(iri, headers={"Accept": "application/json", "If-None-Match": tag})
    assert again.status_code == 304


# ---------------------------------------------------------------------------- 5. containers


async def test_5_container_iri_methods_and_headers(setup: Setup) -> None:
    http = setup.http
    # The container IRI MUST end in "/" (without it: a redirect to it).
    assert setup.container.endswith("/")
    redirected = await http.get(setup.path.rstrip("/"))
    assert redirected.status_code in (301, 307, 308)
    assert redirected.headers["location"].endswith(setup.path)
    # MUST support GET, HEAD and OPTIONS on the container's IRI.
    got = await http.get(setup.path)
    head = await http.head(setup.path)
    options = await http.options(setup.path)
    assert got.status_code == 200 and head.status_code == 200 and head.content == b""
    assert options.status_code in (200, 204)
    for response in (got, head, options):
        # SHOULD advertise all supported methods in Allow on GET, HEAD and OPTIONS.
        assert {"GET", "HEAD", "OPTIONS", "POST"} <= {
            m.strip() for m in response.headers["allow"].split(",")
        }
        # SHOULD include Accept-Post on GET, HEAD and OPTIONS.
        assert "application/ld+json" in response.headers["accept-post"]
        # MUST (all responses) include an ETag.
        assert response.headers["etag"]
        # MUST (all responses) Link to its type and to the protocol's constraints.
        assert has_link(response, BASIC_CONTAINER) and has_link(response, CONSTRAINED_BY)
        # MUST have Vary with Accept (we negotiate; Prefer too).
        assert "Accept" in response.headers["vary"]
    assert head.headers["etag"] == got.headers["etag"]
    # Without Accept, the answer MUST be JSON-LD.
    assert got.headers["content-type"] == JSONLD
    # Links and tags on other responses from the container too: a creation, bad input,
    # an unacceptable Accept, a caller without credentials.
    created = await setup.post(setup.annotation("one more"))
    bad = await http.post(setup.path, content=b"{", headers={"Content-Type": JSONLD})
    unacceptable = await http.get(setup.path, headers={"Accept": "text/html"})
    async with httpx.AsyncClient(base_url=setup.server.url) as anonymous:
        unauthenticated = await anonymous.get(setup.path)
    assert (created.status_code, bad.status_code, unacceptable.status_code) == (201, 400, 406)
    assert unauthenticated.status_code == 401
    for response in (created, bad, unacceptable, unauthenticated):
        assert has_link(response, BASIC_CONTAINER) and has_link(response, CONSTRAINED_BY)
    assert created.headers["etag"]


async def test_5_container_representation(setup: Setup) -> None:
    response = await setup.http.get(setup.path, headers={"Accept": JSONLD})
    data = response.json()
    # SHOULD use the LDP and the Web Annotation contexts.
    assert W3C in data["@context"] and LDP in data["@context"]
    assert {"BasicContainer", "AnnotationCollection"} <= set(data["type"])
    # SHOULD include the total.
    assert data["total"] == COUNT
    # MUST (more than zero annotations) link or embed the first page; SHOULD link the
    # last page when there is more than one.
    first = data["first"]
    assert first["type"] == "AnnotationPage" and len(first["items"]) == PAGE_SIZE
    assert data["last"].endswith("page=2")
    # The IRI SHOULD tell descriptions from IRIs (a query parameter, RECOMMENDED), and
    # without a redirect Content-Location MUST name it.
    assert data["id"] == setup.container + "?iris=0"
    assert response.headers["content-location"] == data["id"]
    # Default (no preference): SHOULD be PreferContainedDescriptions.
    for item in first["items"]:
        assert isinstance(item, dict)
        assert_w3c_annotation(item, embedded=True)
        assert item["id"] in setup.ids


async def test_5_paging(setup: Setup) -> None:
    http = setup.http
    container = (await http.get(setup.path)).json()
    seen: list[str] = []
    page_url: str | None = container["first"]["id"]
    index = 0
    while page_url:
        page = (await http.get(page_url)).json()
        assert page["type"] == "AnnotationPage"
        # Each page MUST link the container it is part of (partOf).
        assert page["partOf"]["id"] == container["id"]
        assert page["partOf"]["total"] == COUNT
        # MUST link the previous page unless it is the first, and the next unless last.
        if index == 0:
            assert "prev" not in page
        else:
            assert page["prev"].endswith(f"page={index - 1}")
        assert page["startIndex"] == index * PAGE_SIZE
        for item in page["items"]:
            assert_w3c_annotation(item, embedded=True)
        seen += [item["id"] for item in page["items"]]
        page_url = page.get("next")
        if page_url is None:
            assert page["id"] == container["last"]
        index += 1
    # Traversing every page gives the whole container, in order, each annotation once.
    assert index == 3 and seen == setup.ids
    assert (await http.get(setup.path + "?iris=0&page=3")).status_code == 404
    assert (await http.get(setup.path + "?iris=2")).status_code == 400


async def test_5_preferences(setup: Setup) -> None:
    http = setup.http
    # Minimal container: MUST NOT embed the first page (nor ldp:contains).
    minimal = await http.get(setup.path, headers=prefer(PREFER_MINIMAL))
    data = minimal.json()
    assert isinstance(data["first"], str) and "contains" not in data
    assert data["total"] == COUNT
    assert minimal.headers["preference-applied"] == "return=representation"
    assert "Prefer" in minimal.headers["vary"]
    # Contained IRIs: MUST answer with a first page of IRIs only; linked pages SHOULD too.
    iris = await http.get(setup.path, headers=prefer(PREFER_IRIS))
    data = iris.json()
    assert data["id"] == setup.container + "?iris=1"
    assert iris.headers["content-location"] == data["id"]
    assert data["first"]["items"] == setup.ids[:PAGE_SIZE]
    second = (await http.get(data["first"]["next"])).json()
    assert second["items"] == setup.ids[PAGE_SIZE : 2 * PAGE_SIZE]
    # Both: minimal container with IRI pages.
    both = (await http.get(setup.path, headers=prefer(PREFER_MINIMAL, PREFER_IRIS))).json()
    assert both["first"] == setup.container + "?iris=1&page=0"
    # Contained descriptions: full annotations.
    full = (await http.get(setup.path, headers=prefer(PREFER_DESCRIPTIONS))).json()
    assert all(isinstance(i, dict) for i in full["first"]["items"])
    # IRIs and descriptions together cannot be honoured: said so.
    clash = await http.get(setup.path, headers=prefer(PREFER_IRIS, PREFER_DESCRIPTIONS))
    assert clash.status_code == 400
    assert "exclude each other" in clash.json()["detail"]
    # An empty container has no pages.
    other = setup.path.replace(setup.path.rstrip("/").rsplit("/", 1)[1], "empty-one")
    empty = (await http.get(other)).json()
    assert empty["total"] == 0 and "first" not in empty


# ---------------------------------------------------------------------------- 6. changes


async def test_6_create(setup: Setup) -> None:
    foreign = "https://elsewhere.example.org/annotations/42"
    canonical = "urn:uuid:6d1f9b2a-0c4e-4f6b-9d7e-2a1b3c4d5e6f"
    sent = setup.annotation("Retouching visible under UV", id=foreign, canonical=canonical)
    made = await setup.post(sent)
    # MUST answer 201 with Location: the new IRI, the container's plus a component.
    assert made.status_code == 201
    location = made.headers["location"]
    assert location.startswith(setup.container) and "/" not in location.removeprefix(
        setup.container
    )
    data = made.json()
    # The server MUST assign the id even when one is given; SHOULD copy that to via;
    # MUST keep canonical unchanged. The answer SHOULD be the annotation as stored.
    assert data["id"] == location and data["via"] == foreign and data["canonical"] == canonical
    assert made.headers["etag"] and made.headers["content-type"] == JSONLD
    assert_w3c_annotation(data)
    # The server MAY add the time of creation and its author.
    assert data["created"] and data["creator"]["id"].startswith("urn:sinopia:user:")
    # The creator is a pseudonymous id; the name beside it is looked up when read.
    assert data["creator"]["name"] and data["creator"]["name"] not in data["creator"]["id"]
    stored = await setup.http.get(location)
    assert stored.json() == data and stored.headers["etag"] == made.headers["etag"]
    # Slug: SHOULD be used when it names nothing yet; otherwise a fresh id.
    named = await setup.post(setup.annotation("named"), Slug='"my_first_annotation"')
    assert named.headers["location"] == setup.container + "my_first_annotation"
    again = await setup.post(setup.annotation("named again"), Slug="my_first_annotation")
    assert again.status_code == 201
    assert again.headers["location"] != setup.container + "my_first_annotation"
    # Plain JSON is accepted as well; the answer follows Accept.
    plain = await setup.http.post(
        setup.path, json=setup.annotation("plain"), headers={"Accept": "application/json"}
    )
    assert plain.status_code == 201 and plain.headers["content-type"] == "application/json"


async def test_6_update(setup: Setup) -> None:
    http, iri = setup.http, setup.ids[1]
    read = await http.get(iri)
    tag, data = read.headers["etag"], read.json()
    data["body"]["value"] = "Rewritten: flaking along the hem"
    # If-Match with the ETag read: 200 with the new state (MUST), a new ETag.
    updated = await http.put(iri, json=data, headers={"If-Match": tag, "Content-Type": JSONLD})
    assert updated.status_code == 200, updated.text
    new = updated.json()
    assert new["body"]["value"] == "Rewritten: flaking along the hem"
    assert new["created"] == data["created"] and new["modified"]
    assert updated.headers["etag"] != tag and has_link(updated, RESOURCE)
    assert_w3c_annotation(new)
    assert (await http.get(iri)).json() == new
    # A stale If-Match: 412, nothing changed.
    data["body"]["value"] = "lost update"
    stale = await http.put(iri, json=data, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert (await http.get(iri)).json() == new
    # If-Match is a client SHOULD: without it the PUT is accepted.
    data["body"]["value"] = "no precondition"
    loose = await http.put(iri, json={k: v for k, v in data.items() if k != "modified"})
    assert loose.status_code == 200 and loose.json()["body"]["value"] == "no precondition"
    current = loose.json()
    # A PUT that changes the id: 400, nothing changed.
    moved = await http.put(iri, json={**current, "id": setup.container + "elsewhere"})
    assert moved.status_code == 400 and "id" in moved.json()["detail"]
    # SHOULD reject changes of canonical or via once set.
    made = await setup.post(setup.annotation("with via", id="https://example.org/a/1"))
    fixed = made.json()
    changed = await http.put(fixed["id"], json={**fixed, "via": "https://example.org/a/2"})
    assert changed.status_code == 409
    assert (await http.get(iri)).json() == current
    assert (await http.put(setup.container + "nope", json=current)).status_code == 404


async def test_6_delete(setup: Setup) -> None:
    http, iri = setup.http, setup.ids[2]
    tag = (await http.get(iri)).headers["etag"]
    stale = await http.delete(iri, headers={"If-Match": '"not-the-tag"'})
    assert stale.status_code == 412 and (await http.get(iri)).status_code == 200
    # MUST answer 204 once deleted.
    deleted = await http.delete(iri, headers={"If-Match": tag})
    assert deleted.status_code == 204
    assert (await http.get(iri)).status_code == 404
    # MUST be removed from the container.
    container = (await http.get(setup.path, headers=prefer(PREFER_IRIS))).json()
    assert container["total"] == COUNT - 1
    everything = []
    page: str | None = container["first"]["id"]
    while page:
        data = (await http.get(page)).json()
        everything += data["items"]
        page = data.get("next")
    assert iri not in everything and len(everything) == COUNT - 1
    assert (await http.delete(iri)).status_code == 404
    # Deleted IRIs SHOULD NOT be reused: the server's ids are random.
    made = await setup.post(setup.annotation("after the delete"))
    assert made.headers["location"] not in setup.ids


async def test_bad_input_is_a_problem_and_changes_nothing(setup: Setup) -> None:
    http = setup.http
    before = (await http.get(setup.path)).headers["etag"]
    huge_text = "x" * (70 * 1024)
    unknown_selector = setup.annotation("x")
    unknown_selector["target"]["selector"] = {"type": "CssSelector", "value": "#a"}
    outside = setup.annotation("x")
    outside["target"]["selector"]["value"] = f"xywh=0,0,{setup.width + 500},10"
    cases: list[tuple[httpx.Response, int, str]] = [
        (
            await http.post(setup.path, content=b"{nope", headers={"Content-Type": JSONLD}),
            400,
            "not JSON",
        ),
        (await setup.post(["not", "an", "object"]), 400, "JSON object"),
        (
            await setup.post(setup.annotation("x", **{"@context": "http://schema.org/"})),
            400,
            "@context",
        ),
        (await setup.post(setup.annotation("x", type="Note")), 400, "type"),
        (await setup.post(unknown_selector), 400, "unknown selector type 'CssSelector'"),
        (await setup.post(outside), 400, "outside the canvas"),
        (await setup.post(setup.annotation(huge_text)), 400, "the limit is 65536"),
        (await setup.post({"type": "Annotation", "body": "x"}), 400, "target"),
        (
            await http.post(
                setup.path, content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": JSONLD}
            ),
            413,
            "exceeds",
        ),
        (
            await http.post(setup.path, content=b"<a/>", headers={"Content-Type": "text/xml"}),
            415,
            "JSON",
        ),
    ]
    other_canvas = setup.annotation("x")
    other_canvas["target"]["source"] = "https://example.org/some/other/canvas"
    cases.append((await setup.post(other_canvas), 400, "this document annotates"))
    for response, status, said in cases:
        assert response.status_code == status, (said, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status and said in response.text, (said, problem)
    # A PUT of bad input leaves the annotation as it was.
    iri = setup.ids[0]
    stored = (await http.get(iri)).json()
    bad_put = await http.put(iri, json={**stored, "target": {"source": 5}})
    assert bad_put.status_code == 400 and bad_put.json()["errors"]
    assert (await http.get(iri)).json() == stored
    assert (await http.get(setup.path)).headers["etag"] == before


async def test_cors_exposes_the_protocol(setup: Setup) -> None:
    http = setup.http
    preflight = await http.options(
        setup.path,
        headers={
            "Origin": "https://viewer.example.org",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "if-match, prefer, content-type, authorization",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert all(h in allowed for h in ("if-match", "prefer", "content-type", "authorization"))
    got = await http.get(setup.ids[0], headers={"Origin": "https://viewer.example.org"})
    assert got.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in got.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "link", "location", "allow", "content-location", "vary"} <= exposed
    # Never with credentials for an origin that is not configured.
    assert "access-control-allow-credentials" not in got.headers


async def test_reports_have_no_container_and_the_api_is_described(setup: Setup) -> None:
    http = setup.http
    report = await http.get(f"/api/annotations/{WORKSPACE}/report/r1/")
    assert report.status_code == 404
    spec = (await http.get("/api/openapi.json")).json()
    container = spec["paths"]["/api/annotations/{workspace}/{kind}/{id}/"]
    assert {"get", "head", "options", "post"} <= set(container)
    one = spec["paths"]["/api/annotations/{workspace}/{kind}/{id}/{annotation}"]
    assert {"get", "head", "options", "put", "delete"} <= set(one)
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
