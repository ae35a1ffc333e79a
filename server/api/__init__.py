"""The REST API, one module per resource; `server.api.table` puts them all in one route
table (server.http.routes), from which the app's routes, the OpenAPI description and the
authorization matrix come."""
