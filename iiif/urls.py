"""Where a workspace's IIIF resources live: the public paths of DESIGN.md in one place, so
exported ids, annotation page links and search service links always agree with the routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WorkspaceUrls(BaseModel):
    """The URLs of one workspace's IIIF resources, from the server's public base URL."""

    model_config = ConfigDict(frozen=True)

    base_url: str  # e.g. "https://sinopia.example.org" (no trailing slash needed)
    workspace: str

    @property
    def _root(self) -> str:
        return self.base_url.rstrip("/")

    def manifest(self, manifest_id: str) -> str:
        return f"{self._root}/iiif/{self.workspace}/manifest/{manifest_id}"

    def annotation_page(self, kind: str, subject_id: str) -> str:
        return f"{self._root}/iiif/{self.workspace}/{kind}/{subject_id}/annotations"

    def annotation_container(self, kind: str, subject_id: str) -> str:
        """The W3C annotation container of a subject (ends with a slash)."""
        return f"{self._root}/api/annotations/{self.workspace}/{kind}/{subject_id}/"

    def search(self) -> str:
        return f"{self._root}/iiif/{self.workspace}/search"

    def search_v1(self) -> str:
        return f"{self._root}/iiif/{self.workspace}/search/v1"
