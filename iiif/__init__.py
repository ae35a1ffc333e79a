"""IIIF Presentation manifests, canvases, 3D scenes and AnnotationPage export, Content
Search, Content State, and the Image API's requests and info.json. Pure domain code: no I/O."""

from .content_state import ContentState
from .errors import ContentStateError, IIIFError, ManifestError, SearchQueryError
from .export import annotation_page, manifest
from .image_api import ImageRequest, ImageRequestError, ServiceLimits, info_json, parse_request
from .language import LanguageMap, language_map, pick
from .manifests import parse_manifest, presentation_version
from .search import SearchQuery, search_v1, search_v2
from .subjects import ImageResource, ImageService, ModelAsset, Subject, subject_id
from .urls import WorkspaceUrls

__all__ = [
    "ContentState",
    "ContentStateError",
    "IIIFError",
    "ImageRequest",
    "ImageRequestError",
    "ImageResource",
    "ImageService",
    "LanguageMap",
    "ManifestError",
    "ModelAsset",
    "SearchQuery",
    "SearchQueryError",
    "ServiceLimits",
    "Subject",
    "WorkspaceUrls",
    "annotation_page",
    "info_json",
    "language_map",
    "manifest",
    "parse_manifest",
    "parse_request",
    "pick",
    "presentation_version",
    "search_v1",
    "search_v2",
    "subject_id",
]
