"""W3C Web Annotations, condition reports and treatment records: the domain schema of a
subject's CRDT document and its mapping to JSON-LD. Pure domain code: no I/O."""
