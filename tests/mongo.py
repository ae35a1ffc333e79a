"""MongoDB for tests: one server per session, one database per test.

The server is SecantusDB (a MongoDB wire server running in this process) unless
`SINOPIA_TEST_MONGO_URL` names a real one, e.g. `mongodb://localhost:27017/?replicaSet=rs0`.
Import the fixtures into a test module (or conftest) to use them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from pymongo import MongoClient

ENV = "SINOPIA_TEST_MONGO_URL"
REPLICA_SET = "rs0"


def with_database(url: str, name: str) -> str:
    """`url` with its path (the database) replaced by `name`, options kept."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a MongoDB server shared by the session (stopping SecantusDB takes ~2 s)."""
    if url := os.environ.get(ENV):
        yield url
        return
    from secantus import SecantusDBServer

    # A replica set name, as change streams need one. retryWrites=false: with retryable
    # writes SecantusDB slows down badly after ~10k writes.
    server = SecantusDBServer(
        port=0,
        storage_path=str(tmp_path_factory.mktemp("secantus")),
        replica_set_name=REPLICA_SET,
    )
    server.start()
    try:
        host, port = server.address
        yield f"mongodb://{host}:{port}/?replicaSet={REPLICA_SET}&retryWrites=false"
    finally:
        server.stop()


@pytest.fixture
def mongo_database(mongo_server: str) -> Iterator[str]:
    """A URL naming a database of its own for this test, dropped afterwards."""
    name = f"sinopia_test_{uuid.uuid4().hex[:16]}"
    yield with_database(mongo_server, name)
    client: MongoClient[dict] = MongoClient(mongo_server, serverSelectionTimeoutMS=5000)
    try:
        client.drop_database(name)
    finally:
        client.close()
