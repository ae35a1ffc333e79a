"""`/api/workspaces/{workspace}/tags`: the workspace's tag list, offered by the app's tag
picker beside free tags (each a label and a colour), kept in the directory with the
workspace. Members read it; editors and above replace it whole."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response

from server.access.caller import auth_of
from server.http.problems import HTTPProblem
from server.http.routes import Api, json

api = Api("workspaces")
PATH = "/api/workspaces/{workspace}/tags"

# A tag is shown on a chip and in a picker: a label longer than this is not a tag.
MAX_LABEL = 64
# A picker of more than this many is no longer a list anyone chooses from.
MAX_TAGS = 500


class WorkspaceTag(BaseModel):
    label: str = Field(min_length=1, max_length=MAX_LABEL)
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb")

    @field_validator("label")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a tag needs a label")
        return value


class WorkspaceTags(BaseModel):
    tags: list[WorkspaceTag] = Field(max_length=MAX_TAGS)

    @field_validator("tags")
    @classmethod
    def _unique(cls, tags: list[WorkspaceTag]) -> list[WorkspaceTag]:
        seen: set[str] = set()
        for tag in tags:
            key = tag.label.casefold()
            if key in seen:
                raise ValueError(f"the label {tag.label!r} is there twice")
            seen.add(key)
        return tags


@api.get(PATH, "read", answer=WorkspaceTags)
async def get_tags(request: Request) -> Response:
    """The workspace's tag list (labels and colours)."""
    workspace = await auth_of(request).directory.workspace(request.path_params["workspace"])
    if workspace is None:
        raise HTTPProblem(404, "no such workspace")
    return json(WorkspaceTags.model_validate({"tags": list(workspace.tags)}))


@api.put(
    PATH,
    "write",
    answer=WorkspaceTags,
    statuses={400: "A bad colour, a label over 64 characters, more than 500 tags"},
)
async def put_tags(request: Request, wanted: WorkspaceTags) -> Response:
    """Replace the workspace's tag list (editors and above).

    Colours are `#rrggbb`; labels 1-64 characters, each once (ignoring case); at most
    500 tags. Annotations already tagged keep their tags.
    """
    tags = [{"label": t.label, "color": t.color.lower()} for t in wanted.tags]
    changed = await auth_of(request).directory.set_workspace_tags(
        request.path_params["workspace"], tags
    )
    if changed is None:
        raise HTTPProblem(404, "no such workspace")
    return json(WorkspaceTags.model_validate({"tags": list(changed.tags)}))
