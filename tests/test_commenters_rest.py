"""Over REST: commenters add comments and replies and change only their own (anything else
is refused whole with 403 problem+json, the document unchanged); a share link for one
manifest opens that manifest and its pages, read-only."""

from __future__ import annotations

import httpx

from iiif import subject_id

from . import access
from .conftest import Running
from .test_annotations_live import WORKSPACE, _subject, comment
from .test_iiif_manifests import load


def _as(server: Running, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


async def test_commenter_adds_and_changes_only_their_own(server: Running) -> None:
    subject = await _subject(server)
    container, canvas = subject["annotations"], subject["iiif_id"]
    path = httpx.URL(container).path
    editor = await access.user_token(server, "erin", WORKSPACE, "editor")
    commenter = await access.user_token(server, "cory", WORKSPACE, "commenter")

    async with _as(server, editor) as http:
        made = await http.post(path, json=comment(canvas, "Editor's condition note"))
        assert made.status_code == 201, made.text
        editors = httpx.URL(made.headers["Location"]).path

    async with _as(server, commenter) as http:
        mine = await http.post(path, json=comment(canvas, "Is this flaking recent?"))
        assert mine.status_code == 201, mine.text
        own = httpx.URL(mine.headers["Location"]).path
        body = (await http.get(own)).json()
        # Their pseudonymous id, and their name beside it as it is now.
        assert body["creator"]["id"] == f"urn:sinopia:user:{await access.user_id(server, 'cory')}"
        assert body["creator"]["name"] == "cory"

        before = (await http.get(path)).json()
        describing = {**comment(canvas, "not a comment"), "motivation": "describing"}
        refused = [
            await http.post(path, json=describing),
            await http.put(
                editors,
                json={**comment(canvas, "rewritten by cory"), "id": made.headers["Location"]},
                headers={"If-Match": made.headers["ETag"]},
            ),
            await http.delete(editors, headers={"If-Match": made.headers["ETag"]}),
        ]
        for answer in refused:
            assert answer.status_code == 403, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
        assert (await http.get(path)).json()["total"] == before["total"]
        assert (await http.get(editors)).json()["body"]["value"] == "Editor's condition note"

        # Their own comment they may edit and delete.
        current = await http.get(own)
        edited = await http.put(
            own,
            json={**comment(canvas, "Is this flaking recent? Checked: no."), "id": body["id"]},
            headers={"If-Match": current.headers["ETag"]},
        )
        assert edited.status_code == 200, edited.text
        gone = await http.delete(own, headers={"If-Match": edited.headers["ETag"]})
        assert gone.status_code == 204, gone.text

    # A comment of theirs from before ids were used (its creator id holds their name) is
    # still theirs to change.
    async with _as(server, editor) as http:
        old = {**comment(canvas, "An old question"), "creator": {"id": "urn:sinopia:user:cory"}}
        made = await http.post(path, json=old)
        assert made.status_code == 201, made.text
    async with _as(server, commenter) as http:
        edited = await http.put(
            httpx.URL(made.headers["Location"]).path,
            json={
                **old,
                "id": made.headers["Location"],
                "body": comment(canvas, "Answered")["body"],
            },
            headers={"If-Match": made.headers["ETag"]},
        )
        assert edited.status_code == 200, edited.text


async def test_manifest_share_link_opens_that_manifest_and_its_pages_only(
    server: Running,
) -> None:
    subject = await _subject(server)
    manifest_iri = load("p3_book_of_hours.json")["id"]
    async with server.http() as http:
        made = await http.post(
            f"/api/workspaces/{WORKSPACE}/shares", json={"manifest": manifest_iri}
        )
        assert made.status_code == 201, made.text
        link = made.json()["token"]
        single = await http.post(
            f"/api/workspaces/{WORKSPACE}/shares",
            json={"subject": f"{subject['kind']}/{subject['id']}"},
        )
        one_subject = single.json()["token"]
    manifest_path = f"/iiif/{WORKSPACE}/manifest/{subject_id(manifest_iri)}"
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as anonymous:
        # The embedding page loads the manifest and the pages it links, with the link.
        opened = await anonymous.get(manifest_path, params={"token": link})
        assert opened.status_code == 200, opened.text
        page = opened.json()["items"][0]["annotations"][0]["id"]
        assert (await anonymous.get(page)).status_code == 200
        # Not writing, not another manifest, and a one-subject link does not list the rest.
        other = await anonymous.get(f"/iiif/{WORKSPACE}/manifest/x-123", params={"token": link})
        assert other.status_code == 403
        listed = await anonymous.get(manifest_path, params={"token": one_subject})
        assert listed.status_code == 403
        posted = await anonymous.post(
            httpx.URL(subject["annotations"]).path,
            params={"token": link},
            json=comment(subject["iiif_id"], "from the museum website"),
        )
        assert posted.status_code == 403
