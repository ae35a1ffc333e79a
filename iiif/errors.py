"""What goes wrong with IIIF input, said so the person who sent it can fix it."""

from __future__ import annotations


class IIIFError(ValueError):
    """Bad IIIF input; the message names the place (`items[2].width`) and the problem."""


class ManifestError(IIIFError):
    """A manifest that cannot be imported."""


class SearchQueryError(IIIFError):
    """A Content Search request with a parameter we cannot read (e.g. a malformed date)."""


class ContentStateError(IIIFError):
    """A content state that is not base64url-encoded JSON of the expected shape."""
