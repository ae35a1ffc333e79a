"""Subcommands of `sinopia`, one module each; each adds its parser with `register`."""
