"""`GET /api/workspaces/{workspace}/people?id=...`: the names of the people that
annotations name by pseudonymous id (`creator.id` `urn:sinopia:user:<id>`).

Documents store a Sinopia user as creator by id alone, so that erasing the person leaves
no name in them (server.directory.people); the app asks here for the names to show, at
the time of showing: a renamed person shows the new name, an erased one "erased user N".
Any reader of the workspace may ask, for any id: ids are random (64 bits) and found only in
what the reader can already read, and a name is what every export already shows beside
its id. Ids that are no Sinopia user's are left out of the answer.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from annotations.models import is_user_agent
from server.access.caller import auth_of
from server.directory.people import People
from server.http.problems import HTTPProblem
from server.http.routes import Api, Param, json

api = Api("workspaces")

# Ids per request: the app asks for the creators of the annotations it shows (a busy
# canvas has a few dozen); more is not a lookup but a crawl.
MAX_IDS = 100


class Person(BaseModel):
    id: str
    name: str


class PeopleOut(BaseModel):
    people: list[Person]


@api.get(
    "/api/workspaces/{workspace}/people",
    "read",
    answer=PeopleOut,
    params=(
        Param(
            "id", "query", f"creator ids (urn:sinopia:user:...), space-separated; {MAX_IDS} at most"
        ),
    ),
    statuses={400: "Too many ids"},
)
async def people_named(request: Request) -> Response:
    """The names to show for annotations' creator ids, as they are now."""
    ids = sorted({i for i in request.query_params.get("id", "").split() if is_user_agent(i)})
    if len(ids) > MAX_IDS:
        raise HTTPProblem(400, f"at most {MAX_IDS} ids at once (asked: {len(ids)})")
    people = People(auth_of(request).directory)
    out = []
    for iri in ids:
        name = await people.of_agent(iri)
        if name is not None:
            out.append(Person(id=iri, name=name))
    return json(PeopleOut(people=out))
