"""Subcommands of `sinopia`, one module each (`serve`, `admin`, `history`, `iiif`,
`report`), on one shared footing: the options every command takes
(server.commands.options) and one-line errors (server.commands.errors)."""
