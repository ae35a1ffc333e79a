"""IIIF Presentation manifests, canvases, 3D scenes and AnnotationPage export, Content
Search and Content State. Pure domain code: no I/O."""

from .content_state import ContentState
from .errors import ContentStateError, IIIFError, ManifestError, SearchQueryError
from .export import annotation_page, manifest
from .language import LanguageMap, language_map, pick
from .manifests import parse_manifest, presentation_version
from .search import SearchQuery, search_v1, search_v2
from .subjects import ImageResource, ImageService, ModelAsset, Subject, subject_id
from .urls import WorkspaceUrls

__all__ = [
    "ContentState",
    "ContentStateError",
    "IIIFError",
    "ImageResource",
    "ImageService",
    "LanguageMap",
    "ManifestError",
    "ModelAsset",
    "SearchQuery",
    "SearchQueryError",
    "Subject",
    "WorkspaceUrls",
    "annotation_page",
    "language_map",
    "manifest",
    "parse_manifest",
    "pick",
    "presentation_version",
    "search_v1",
    "search_v2",
    "subject_id",
]
