"""Media: the blob store (uploaded files, image pyramids, attachments) and image intake
and serving. Stands on `server.settings` only; the API (`server/api/media.py`,
`server/api/images.py`) wires it to HTTP."""
