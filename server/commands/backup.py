"""`sinopia admin backup DIR` and `sinopia admin restore DIR`: a consistent copy of
everything Sinopia keeps, taken while the server runs, and brought back on another
machine.

A backup is a directory:

    manifest.json          what is in it, with each file's SHA-256 (written last: a
                           backup without one did not finish)
    files/...              the data directory: SQLite files as consistent copies, every
                           other file (the seal and sign-in keys, uploads) as it is
    mongodb/NAME.bson      with MongoDB, each collection of Sinopia's database

Why each part is consistent while the server writes:

- SQLite files are copied with SQLite's online backup API in one step: it reads the
  file inside one read transaction, so the copy is the database as of one commit (WAL
  lets the server go on writing meanwhile; copying in several steps would restart at
  every write of a client typing live and might never finish).
- The parts are copied in the order in which they refer to each other: the store
  first, then the directory (which holds every workspace a stored document belongs to,
  and any key it needs), then the other files (uploads a document refers to were
  written before the document named them). So nothing copied refers to what was not.
- MongoDB has no one-call snapshot that every server offers, so the dump relies on the
  log being append-only. It first reads the *cut*: each document's highest sequence
  number. Entries with seq up to the cut all exist then and never change, so dumping
  exactly those gives every log as of the cut however long the dump takes, whatever is
  appended meanwhile. Checkpoints, seals and named versions past the cut are left out,
  and checkpoint chunks go with their checkpoints. The directory's records can change
  (a sign-in adds a session): they are dumped between two reads of its generation
  counter (which every change bumps) and dumped again if it moved; its audit log is
  append-only and cut at its counter. Other collections are dumped whole, after the
  log, for the reason above.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import bson
from pymongo import IndexModel, MongoClient
from pymongo.database import Database

from server.commands.errors import Fail
from server.commands.options import command, data_dir, settings_from
from server.settings import Settings

FORMAT = "sinopia-backup"
VERSION = 1
MANIFEST = "manifest.json"

# SQLite's own side files: a consistent copy of the database replaces them.
_SIDE_FILES = ("-wal", "-shm", "-journal")
_SQLITE_MAGIC = b"SQLite format 3\x00"

# The log's collections (crdt/stores/mongo.py) and the directory's
# (server/directory/mongo.py), dumped as described above.
_LOG = ("checkpoints", "checkpoint_chunks", "seals", "versions", "entries")
_DIRECTORY = ("directory", "directory_counters")
_AUDIT = "directory_audit"
# Rounds of dumping the directory before giving up on one that never stops changing.
DIRECTORY_ATTEMPTS = 5
# Documents inserted per write when restoring: large enough to be quick, small enough to
# stay far below MongoDB's 48 MB message limit with the store's 8 MiB checkpoint chunks.
RESTORE_BATCH = 200
RESTORE_BATCH_BYTES = 16 * 1024 * 1024
_HASH_CHUNK = 1024 * 1024


# -- progress ----------------------------------------------------------------------------


class Progress:
    """A progress bar on stderr for long work; on a pipe or a log, a line per item done."""

    WIDTH = 30
    # Redraw at most this often: a bar that redraws per document costs more than the work.
    EVERY_SECONDS = 0.1

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = 0.0

    def update(self, what: str, done: int, total: int, unit: str = "") -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._drawn < self.EVERY_SECONDS and done < total:
            return
        self._drawn = now
        share = min(1.0, done / total) if total else 1.0
        bar = "#" * int(share * self.WIDTH)
        count = _size(done, total) if unit == "B" else f"{done}/{total}"
        self.stream.write(f"\r  {what[:40]:<40} [{bar:<{self.WIDTH}}] {share:4.0%} {count}  ")
        self.stream.flush()

    def done(self, what: str, said: str) -> None:
        if self.tty:
            self.stream.write("\r" + " " * (self.WIDTH + 70) + "\r")
        self.stream.write(f"  {what}: {said}\n")
        self.stream.flush()


def _size(done: int, total: int) -> str:
    return f"{done / 2**20:.1f}/{total / 2**20:.1f} MiB"


# -- the manifest ------------------------------------------------------------------------


@dataclass
class Part:
    path: str  # relative to the backup directory, with "/"
    kind: str  # "sqlite", "file" or "mongodb"
    sha256: str
    bytes: int
    documents: int | None = None  # MongoDB: how many documents
    indexes: list[dict[str, Any]] = field(default_factory=list)  # MongoDB: to make again

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "sha256": self.sha256,
            "bytes": self.bytes,
        }
        if self.kind == "mongodb":
            data["documents"] = self.documents
            data["indexes"] = self.indexes
        return data


def sha256_of(path: Path, progress: Progress | None = None, what: str = "") -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress.update(what, done, total, "B")
    return digest.hexdigest()


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("sinopia")
    except importlib.metadata.PackageNotFoundError:
        return "0"


# -- backup ------------------------------------------------------------------------------


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def copy_sqlite(source: Path, target: Path, progress: Progress, what: str) -> None:
    """A consistent copy of a live SQLite file (see the module's docstring)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source, timeout=30, check_same_thread=False)
    dst = sqlite3.connect(target, check_same_thread=False)
    try:
        pages = src.execute("PRAGMA page_count").fetchone()[0]
        page_size = src.execute("PRAGMA page_size").fetchone()[0]
        total = pages * page_size
        error: list[BaseException] = []

        def run() -> None:
            try:
                src.backup(dst, pages=-1)
            except BaseException as exc:
                error.append(exc)

        # The one-step copy runs on a thread; the bar follows the copy's size.
        worker = threading.Thread(target=run, name="backup-sqlite")
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            with_size = target.stat().st_size if target.exists() else 0
            progress.update(what, min(with_size, total), total, "B")
        if error:
            raise error[0]
    finally:
        dst.close()
        src.close()
    # A self-contained file: no WAL beside it.
    conn = sqlite3.connect(target)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _data_files(root: Path, skip: set[Path]) -> Iterator[Path]:
    """Every file of the data directory Sinopia's copy should carry, sorted."""
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.resolve() in skip:
            continue
        if any(path.name.endswith(suffix) for suffix in _SIDE_FILES):
            continue
        yield path


class Backup:
    def __init__(self, settings: Settings, target: Path, progress: Progress) -> None:
        self.settings = settings
        self.target = target
        self.progress = progress
        self.parts: list[Part] = []
        # SQLite files already copied (by their resolved path).
        self.copied: set[Path] = set()

    def add(self, relative: str, kind: str, **extra: Any) -> Part:
        path = self.target / relative
        part = Part(relative, kind, sha256_of(path), path.stat().st_size, **extra)
        self.parts.append(part)
        return part

    def sqlite(self, source: Path, relative: str) -> None:
        copy_sqlite(source, self.target / relative, self.progress, relative)
        self.copied.add(source.resolve())
        part = self.add(relative, "sqlite")
        self.progress.done(relative, f"{part.bytes / 2**20:.1f} MiB")

    def file(self, source: Path, relative: str) -> None:
        destination = self.target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        self.add(relative, "file")

    def data_directory(self, store_file: Path | None) -> None:
        """The store (when SQLite), then the directory, then every other file."""
        root = self.settings.data_dir
        first = [] if store_file is None else [store_file]
        first.append(root / "directory.db")
        for path in first:
            if path.exists() and path.resolve() not in self.copied:
                name = "sinopia.db" if path == store_file else path.name
                self.sqlite(path, f"files/{name}")
        others = 0
        for path in _data_files(root, self.copied):
            relative = "files/" + path.relative_to(root).as_posix()
            if _is_sqlite(path):
                self.sqlite(path, relative)
            else:
                self.file(path, relative)
                others += 1
        if others:
            self.progress.done("other files", f"{others} (keys, uploads)")

    def mongodb(self, url: str) -> str:
        client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=5000)
        try:
            db = client.get_default_database("sinopia")
            dump = _MongoDump(db, self)
            dump.run()
            return db.name
        finally:
            client.close()

    def write_manifest(self, store: str, database: str | None, started: float) -> None:
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "sinopia": _version(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - started, 3),
            "store": store,
            "database": database,
            "files": [part.to_json() for part in self.parts],
        }
        temporary = self.target / (MANIFEST + ".partial")
        temporary.write_text(json.dumps(manifest, indent=1) + "\n")
        os.replace(temporary, self.target / MANIFEST)


class _MongoDump:
    def __init__(self, db: Database[dict[str, Any]], backup: Backup) -> None:
        self.db = db
        self.backup = backup
        self.progress = backup.progress

    def _write(self, name: str, documents: Iterable[dict[str, Any]], total: int) -> tuple[str, int]:
        relative = f"mongodb/{name}.bson"
        path = self.backup.target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with path.open("wb") as out:
            for document in documents:
                out.write(bson.encode(document))
                count += 1
                self.progress.update(name, count, max(total, count))
        return relative, count

    def _indexes(self, name: str) -> list[dict[str, Any]]:
        found = []
        for info in self.db[name].list_indexes():
            spec = {k: v for k, v in dict(info).items() if k not in ("v", "ns")}
            if spec.get("name") == "_id_":
                continue
            spec["key"] = list(spec["key"].items())
            found.append(spec)
        return found

    def collection(
        self,
        name: str,
        query: dict[str, Any] | None = None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Part:
        coll = self.db[name]
        total = coll.estimated_document_count()
        documents: Iterable[dict[str, Any]] = coll.find(query or {}, sort=[("_id", 1)])
        if keep is not None:
            documents = filter(keep, documents)
        relative, count = self._write(name, documents, total)
        part = self.backup.add(relative, "mongodb", documents=count, indexes=self._indexes(name))
        self.progress.done(name, f"{count} documents")
        return part

    def cut(self) -> dict[str, int]:
        """Each document's highest sequence number now."""
        heads = self.db["entries"].aggregate(
            [{"$group": {"_id": "$doc", "head": {"$max": "$seq"}}}]
        )
        return {h["_id"]: h["head"] for h in heads}

    def _counter(self, name: str) -> int:
        found = self.db["directory_counters"].find_one({"_id": name})
        return int(found["value"]) if found else 0

    def run(self) -> None:
        present = set(self.db.list_collection_names())
        cut = self.cut()

        def within(field_name: str) -> Callable[[dict[str, Any]], bool]:
            return lambda d: d.get(field_name, 0) <= cut.get(d.get("doc", ""), 0)

        # Log collections, as of the cut (see the module's docstring).
        written: set[tuple[Any, Any, Any]] = set()

        def checkpoint(d: dict[str, Any]) -> bool:
            if within("seq")(d):
                written.add((d["doc"], d["seq"], d.get("write")))
                return True
            return False

        for name, keep in (
            ("checkpoints", checkpoint),
            ("checkpoint_chunks", lambda d: (d["doc"], d["seq"], d.get("write")) in written),
            ("seals", within("last_seq")),
            ("versions", within("seq")),
            ("entries", within("seq")),
        ):
            if name in present:
                self.collection(name, keep=keep)
        # Everything else whole: keys, uploads, what later modules add.
        for name in sorted(present - set(_LOG) - set(_DIRECTORY) - {_AUDIT}):
            if not name.startswith("system."):
                self.collection(name)
        # The directory between two equal generations; its audit log up to its counter.
        for _ in range(DIRECTORY_ATTEMPTS):
            before = self._counter("generation")
            parts = [self.collection(name) for name in _DIRECTORY if name in present]
            if self._counter("generation") == before:
                break
            for part in parts:
                self.backup.parts.remove(part)
        else:
            raise Fail(
                "the directory kept changing while it was copied "
                f"({DIRECTORY_ATTEMPTS} tries); run the backup again"
            )
        if _AUDIT in present:
            upto = self._counter("audit")
            self.collection(_AUDIT, {"seq": {"$lte": upto}})


def _store_file(settings: Settings) -> Path | None:
    """The SQLite store's file, or None when the store is MongoDB."""
    if settings.mongo_url:
        return None
    from crdt.stores import open_store

    store = open_store(settings.store_location, settings.data_dir)
    path = getattr(store, "path", None)
    if not isinstance(path, Path):
        raise Fail(f"cannot back up the store {store.describe()}")
    return path


def _backup(args: argparse.Namespace) -> int:
    """Copy the store, the directory and the data directory's files into DIR, consistently,
    while the server runs; with a manifest of SHA-256 hashes."""
    settings = settings_from(args)
    data_dir(settings, create=False)
    target: Path = args.dir
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Fail(f"{target} is not empty: give a new directory for the backup")
    store_file = _store_file(settings)
    if store_file is not None and not store_file.exists():
        raise Fail(f"there is no store at {store_file}: nothing to back up (see --data-dir)")
    started = time.monotonic()
    target.mkdir(parents=True, exist_ok=True)
    progress = Progress()
    backup = Backup(settings, target, progress)
    print(f"backing up {settings.data_dir} to {target}", file=sys.stderr)
    database = None
    if settings.mongo_url:
        # The spool first (see the module's docstring), then the database, then the rest.
        spool = settings.data_dir / "spool.db"
        if spool.exists():
            backup.sqlite(spool, "files/spool.db")
        database = backup.mongodb(settings.mongo_url)
        backup.data_directory(None)
    else:
        backup.data_directory(store_file)
    backup.write_manifest("mongodb" if settings.mongo_url else "sqlite", database, started)
    total = sum(part.bytes for part in backup.parts)
    print(
        f"backed up {len(backup.parts)} files, {total / 2**20:.1f} MiB, in "
        f"{time.monotonic() - started:.1f} s to {target}",
        file=sys.stderr,
    )
    return 0


# -- restore -----------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not source.is_dir():
        raise Fail(f"there is no backup directory {source}")
    if not path.exists():
        raise Fail(
            f"{source} has no {MANIFEST}: it is not a Sinopia backup, or the backup did not "
            "finish (take another)"
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise Fail(f"{path} cannot be read: {exc}") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), list):
        raise Fail(f"{path} is not the manifest of a Sinopia backup")
    if manifest.get("version") != VERSION:
        raise Fail(
            f"{path} is a backup of format version {manifest.get('version')}; this Sinopia "
            f"reads version {VERSION}"
        )
    return manifest


def check_hashes(source: Path, manifest: dict[str, Any], progress: Progress) -> None:
    """Every file of the manifest is there and matches its hash; the first that does not
    is named."""
    for entry in manifest["files"]:
        relative = str(entry["path"])
        path = (source / relative).resolve()
        if not path.is_relative_to(source.resolve()):
            raise Fail(f"the manifest names {relative!r}, outside the backup")
        if not path.is_file():
            raise Fail(f"{relative} is missing from the backup {source}; nothing was restored")
        if sha256_of(path, progress, relative) != entry["sha256"]:
            raise Fail(
                f"{relative} does not match its SHA-256 in the manifest: the backup is damaged "
                "or was changed; nothing was restored"
            )
    progress.done("checked", f"{len(manifest['files'])} files match the manifest")


def _empty_database(db: Database[dict[str, Any]]) -> None:
    for name in db.list_collection_names():
        if not name.startswith("system.") and db[name].estimated_document_count():
            raise Fail(
                f"the database {db.name} is not empty (collection {name} has documents): "
                "restore into a new database"
            )


def _batches(stream: BinaryIO) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for document in bson.decode_file_iter(stream):
        batch.append(document)
        size += len(bson.encode(document))
        if len(batch) >= RESTORE_BATCH or size >= RESTORE_BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _check_empty_database(url: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        _empty_database(client.get_default_database("sinopia"))
    finally:
        client.close()


def _restore_mongodb(source: Path, manifest: dict[str, Any], url: str, progress: Progress) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        db = client.get_default_database("sinopia")
        _empty_database(db)
        for entry in manifest["files"]:
            if entry["kind"] != "mongodb":
                continue
            name = Path(entry["path"]).stem
            coll = db[name]
            total = int(entry.get("documents") or 0)
            done = 0
            with (source / entry["path"]).open("rb") as stream:
                for batch in _batches(stream):
                    coll.insert_many(batch, ordered=True)
                    done += len(batch)
                    progress.update(name, done, total)
            indexes = [
                IndexModel(
                    [(k, v) for k, v in spec["key"]],
                    **{k: v for k, v in spec.items() if k != "key"},
                )
                for spec in entry.get("indexes", [])
            ]
            if indexes:
                coll.create_indexes(indexes)
            progress.done(name, f"{done} documents")
    finally:
        client.close()


def _restore(args: argparse.Namespace) -> int:
    """Bring a backup back into a new data directory (and, for a MongoDB backup, an empty
    database given by --mongo-url), after checking every file against the manifest."""
    settings = settings_from(args)
    source: Path = args.dir
    manifest = read_manifest(source)
    target = settings.data_dir
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Fail(f"the data directory {target} is not empty: restore into a new one")
    if manifest["store"] == "mongodb" and not settings.mongo_url:
        raise Fail(
            f"this backup is of a MongoDB store (database {manifest.get('database')}): give "
            "--mongo-url (or SINOPIA_MONGO_URL) for the new, empty database to restore into"
        )
    if manifest["store"] == "sqlite" and settings.mongo_url:
        raise Fail(
            "this backup is of an SQLite store: restore it without --mongo-url (and without "
            "SINOPIA_MONGO_URL)"
        )
    if settings.mongo_url:
        _check_empty_database(settings.mongo_url)
    progress = Progress()
    check_hashes(source, manifest, progress)
    data_dir(settings, create=True)
    if settings.mongo_url:
        _restore_mongodb(source, manifest, settings.mongo_url, progress)
    files = 0
    for entry in manifest["files"]:
        if entry["kind"] == "mongodb":
            continue
        relative = Path(entry["path"]).relative_to("files")
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / entry["path"], destination)  # modes kept: keys stay private
        files += 1
    progress.done("files", f"{files} into {target}")
    print(
        f"restored the backup of {manifest['created']} into {target}"
        + (f" and {settings.mongo_url.split('@')[-1].split('?')[0]}" if settings.mongo_url else "")
        + f"; check it with: sinopia history verify --data-dir {target}",
        file=sys.stderr,
    )
    return 0


def configure(objects: argparse._SubParsersAction) -> None:
    """Adds `backup` and `restore` to `sinopia admin`."""
    p = command(
        objects,
        "backup",
        _backup,
        (
            "sinopia admin backup /backups/sinopia-2026-05-01 --data-dir /var/lib/sinopia",
            "sinopia admin backup /backups/today --mongo-url 'mongodb://db/sinopia'",
        ),
    )
    p.add_argument("dir", type=Path, help="a new (or empty) directory for the backup")
    p = command(
        objects,
        "restore",
        _restore,
        (
            "sinopia admin restore /backups/sinopia-2026-05-01 --data-dir /var/lib/sinopia",
            "sinopia admin restore /backups/today --data-dir /srv/sinopia "
            "--mongo-url 'mongodb://db/sinopia_restored'",
        ),
    )
    p.add_argument("dir", type=Path, help="the backup directory (with manifest.json)")
