"""W3C Web Annotations, condition reports and treatment records: the domain schema of a
subject's CRDT document and its mapping to JSON-LD. Pure domain code: no I/O."""

from .changes import Change, TextRun, diff_documents, summarize, text_diff
from .checks import check_annotation
from .jsonld import (
    W3C_CONTEXT,
    annotation_iri,
    container_iri,
    container_page,
    parse_annotation,
    to_jsonld,
)
from .models import (
    MAX_BODY_BYTES,
    Agent,
    Annotation,
    Resource,
    SpecificResourceBody,
    SpecificTarget,
    TextualBody,
    new_annotation_id,
    now,
)
from .problems import Invalid, Problem
from .report_document import (
    add_approval,
    add_damage,
    read_report,
    remove_damage,
    report_json,
    validate_report_document,
    write_report,
)
from .reports import Approval, DamageEntry, Environment, ObjectInfo, Report
from .schema import check_update, snapshot, validate
from .selectors import CameraView, FragmentSelector, PointSelector, PointSelector3D, SvgSelector
from .subject_document import (
    annotation_jsonld,
    annotations_jsonld,
    delete_annotation,
    read_annotation,
    read_annotations,
    read_subject,
    validate_document,
    write_annotation,
    write_subject,
)

__all__ = [
    "MAX_BODY_BYTES",
    "W3C_CONTEXT",
    "Agent",
    "Annotation",
    "Approval",
    "CameraView",
    "Change",
    "DamageEntry",
    "Environment",
    "FragmentSelector",
    "Invalid",
    "ObjectInfo",
    "PointSelector",
    "PointSelector3D",
    "Problem",
    "Report",
    "Resource",
    "SpecificResourceBody",
    "SpecificTarget",
    "SvgSelector",
    "TextRun",
    "TextualBody",
    "add_approval",
    "add_damage",
    "annotation_iri",
    "annotation_jsonld",
    "annotations_jsonld",
    "check_annotation",
    "check_update",
    "container_iri",
    "container_page",
    "delete_annotation",
    "diff_documents",
    "new_annotation_id",
    "now",
    "parse_annotation",
    "read_annotation",
    "read_annotations",
    "read_report",
    "read_subject",
    "remove_damage",
    "report_json",
    "snapshot",
    "summarize",
    "text_diff",
    "to_jsonld",
    "validate",
    "validate_document",
    "validate_report_document",
    "write_annotation",
    "write_report",
    "write_subject",
]
