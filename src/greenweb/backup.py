"""``greenweb backup`` and ``greenweb restore``: one-file copies of the database.

Backup uses SQLite's online backup API, so it is safe while the server runs and writes:
the copy is taken in one step inside one read transaction, which in WAL mode neither
waits for writers nor makes them wait, and gives a consistent snapshot. (Copying page
batches in several steps would restart from scratch after every write of another
connection, and could never finish under steady writes.) The copy is written next to
its target under a temporary name, switched to a self-contained rollback journal,
checked with ``PRAGMA integrity_check``, flushed to disk and only then given its name.

Restore replaces the live database and must run while **no server is running**: a
server keeps its open file and would go on writing into the old one. ``restore`` checks
this: it takes SQLite's exclusive lock on the current database, which fails while any
other connection has it open, and holds it until the new file is in place. The old
database is kept as ``<name>.bak`` (replacing an older ``.bak``) and the new one takes
its place with one atomic rename, so the database path always names a whole database.

Neither copies the secret file (``<name>.secret``) kept next to the database: back it
up separately (or set ``GREENWEB_SECRET``) if hashed addresses and open sessions must
survive a move to another machine.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from greenweb.db import migration_scripts

# Tables every greenweb database has had since its first migration.
REQUIRED_TABLES = ("content_version", "bulletin_item")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the CLI."""


@dataclass(frozen=True)
class DatabaseInfo:
    path: Path
    user_version: int
    tables: int
    size: int


def known_versions() -> range:
    return range(1, len(migration_scripts()) + 1)


def _read_only(path: Path) -> sqlite3.Connection:
    # A URI so that a missing file is an error instead of a new empty database.
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def inspect_database(path: Path) -> DatabaseInfo:
    """Check that ``path`` is an intact greenweb database this version understands."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with closing(_read_only(path)) as conn:
            # quick_check would skip index contents; a backup is worth the full check.
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path}: not a readable SQLite database ({error})") from None
    if problems != ["ok"]:
        raise BackupError(f"{path}: integrity check failed: {'; '.join(problems[:5])}")
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if version == 0 or missing:
        raise BackupError(f"{path}: not a greenweb database (no {', '.join(missing) or 'schema'})")
    if version not in known_versions():
        raise BackupError(
            f"{path}: schema version {version} is newer than this greenweb knows "
            f"({known_versions().stop - 1}); upgrade greenweb first"
        )
    return DatabaseInfo(path, version, len(tables), path.stat().st_size)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # Makes a rename durable; some filesystems refuse to open directories, and then the
    # rename is as durable as they make it.
    with suppress(OSError):
        _fsync_file(path)


def _temporary(target: Path, purpose: str) -> Path:
    return target.with_name(f".{target.name}.{purpose}-{os.getpid()}")


@contextmanager
def _removed_on_failure(path: Path) -> Iterator[Path]:
    try:
        yield path
    except BaseException:
        for leftover in (path, path.with_name(path.name + "-journal")):
            with suppress(FileNotFoundError):
                leftover.unlink()
        raise


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Online-backup ``source`` into the new file ``target``, one self-contained file."""
    with closing(sqlite3.connect(target, isolation_level=None)) as copy:
        source.backup(copy)  # pages=-1: one step, one consistent snapshot
        # The copy inherits WAL mode from the page it copied; a backup should be one file.
        copy.execute("PRAGMA journal_mode = DELETE")
    _fsync_file(target)


def backup_database(source: Path, target: Path, *, force: bool = False) -> DatabaseInfo:
    """Copy the live database ``source`` to ``target``; never overwrite unless ``force``."""
    if target.exists() and not force:
        raise BackupError(f"{target}: already exists (use --force to replace it)")
    if target.is_dir():
        raise BackupError(f"{target}: is a directory")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such directory")
    inspect_database(source)
    temporary = _temporary(target, "backup")
    with _removed_on_failure(temporary):
        try:
            with closing(sqlite3.connect(source, isolation_level=None)) as conn:
                conn.execute("PRAGMA busy_timeout = 10000")
                _copy(conn, temporary)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source}: backup failed ({error})") from None
        info = inspect_database(temporary)
        if force:
            os.replace(temporary, target)
        else:
            # link() fails if the target appeared meanwhile: never overwrite by accident.
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise BackupError(f"{target}: already exists (use --force to replace it)") from None
            temporary.unlink()
    _fsync_dir(target.parent)
    return DatabaseInfo(target, info.user_version, info.tables, info.size)


@dataclass(frozen=True)
class RestoreReport:
    restored: DatabaseInfo
    previous: Path | None  # where the replaced database was kept


SIDECARS = ("-wal", "-shm", "-journal")


def _lock_exclusively(path: Path) -> sqlite3.Connection | None:
    """A connection holding the exclusive lock on ``path``, refused while anyone has it open.

    None when ``path`` is not a readable database at all (a damaged database is what one
    restores over): then there is nothing to lock, and its side files go with it.
    """
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("COMMIT")  # exclusive locking mode keeps the lock after commit
        # Fold the WAL into the file and drop it: a stale -wal beside the restored file
        # would be replayed into it. (The emptied rollback journal this leaves behind in
        # exclusive mode is deleted when the connection closes.)
        conn.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.OperationalError as error:
        conn.close()
        if "locked" in str(error) or "busy" in str(error):
            raise BackupError(
                f"{path}: the database is in use ({error}); stop the server before restoring"
            ) from None
        return None
    except sqlite3.DatabaseError:
        conn.close()
        return None
    return conn


def restore_database(source: Path, target: Path) -> RestoreReport:
    """Replace ``target`` with a checked copy of ``source``, keeping the old one as .bak."""
    if source.resolve() == target.resolve():
        raise BackupError(f"{source}: is the database itself")
    inspect_database(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(target, "restore")
    with _removed_on_failure(temporary):
        with closing(_read_only(source)) as conn:
            _copy(conn, temporary)
        info = inspect_database(temporary)
        if not target.exists():
            os.replace(temporary, target)
            _fsync_dir(target.parent)
            return RestoreReport(
                DatabaseInfo(target, info.user_version, info.tables, info.size), None
            )
        previous = target.with_name(target.name + ".bak")
        lock = _lock_exclusively(target)
        try:
            kept = _temporary(previous, "keep")
            # A second name for the old file first, so the database path never goes missing.
            try:
                os.link(target, kept)
            except OSError:
                raise BackupError(f"{target}: cannot keep the old database as {previous}") from None
            os.replace(kept, previous)
            if lock is None:
                # The old file could not be opened, so its side files could not be folded
                # into it: they belong to it, not to the restored database.
                for suffix in SIDECARS:
                    with suppress(FileNotFoundError):
                        os.replace(f"{target}{suffix}", f"{previous}{suffix}")
            os.replace(temporary, target)
            _fsync_dir(target.parent)
        finally:
            if lock is not None:
                lock.close()
    return RestoreReport(DatabaseInfo(target, info.user_version, info.tables, info.size), previous)
