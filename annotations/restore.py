"""Making a live document equal to a past state of itself, by a forward change."""

from __future__ import annotations

from pycrdt import Doc

from . import report_document, subject_document
from .problems import Invalid, Problem


def restore(doc: Doc, past: Doc, kind: str) -> None:
    """Change `doc` (inside the caller's transaction) so that its content equals `past`'s,
    touching only what differs, so concurrent co-editors keep their place in texts."""
    if kind == "report":
        before = report_document.report_json(doc)
        refused = report_document.lock_problems(before, {})
        if refused:
            raise Invalid(refused)
        target = report_document.read_report(past)
        if target is None:
            if before:
                raise Invalid(
                    [
                        Problem(
                            path="report",
                            message="cannot restore a state before the report existed",
                        )
                    ]
                )
            return
        # The workflow's state is not history to go back to: status, approvals and the
        # signature stay as they are now.
        current = report_document.migrate(before)
        wanted = target.to_json()
        for key in report_document.WORKFLOW_KEYS:
            wanted.pop(key, None)
            if current.get(key) is not None:
                wanted[key] = current[key]
        wanted["approvals"] = current.get("approvals", [])
        target = report_document.parse_report(wanted)
        report_document.write_report(doc, target)
        return
    wanted = {a.id: a for a in subject_document.read_annotations(past)}
    current = subject_document.annotations_json(doc)
    target_json = subject_document.annotations_json(past)
    for annotation_id in list(current):
        if annotation_id not in wanted:
            subject_document.delete_annotation(doc, annotation_id)
    for annotation_id, annotation in wanted.items():
        if current.get(annotation_id) != target_json.get(annotation_id):
            subject_document.write_annotation(doc, annotation)
    subject = subject_document.read_subject(past)
    if subject is not None and subject_document.meta_json(doc) != subject_document.meta_json(past):
        subject_document.write_subject(doc, subject)
