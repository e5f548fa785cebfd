"""Background reads on SQLite do not queue behind the writer (or make the writer queue)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from smartseoul.core.db import Database


def test_a_read_neither_waits_for_nor_sees_a_write_in_progress(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'city.db'}")
    try:
        with db.session() as session:
            session.execute(text("CREATE TABLE devices (identifier TEXT)"))
            session.execute(text("INSERT INTO devices VALUES ('watch-1')"))
        with db.session() as writer:  # holds SQLite's write lock until the end of the block
            writer.execute(text("INSERT INTO devices VALUES ('watch-2')"))
            with db.reading() as reader:  # taking the write lock would fail here after the busy timeout
                seen = reader.scalars(text("SELECT identifier FROM devices ORDER BY identifier")).all()
        assert seen == ["watch-1"]  # the committed state, not the write under way
        with db.reading() as reader:
            assert reader.scalar(text("SELECT count(*) FROM devices")) == 2
    finally:
        db.dispose()


def test_reads_go_to_the_same_database_in_memory() -> None:
    db = Database("sqlite://")
    try:
        with db.session() as session:
            session.execute(text("CREATE TABLE devices (identifier TEXT)"))
            session.execute(text("INSERT INTO devices VALUES ('watch-1')"))
        with db.reading() as reader:
            assert reader.scalar(text("SELECT count(*) FROM devices")) == 1
    finally:
        db.dispose()


def test_a_writer_commits_while_a_long_read_is_open(tmp_path: Path) -> None:
    """A background read (the coverage warm-up of 30,000 cameras takes seconds) must not hold the
    lock every writer needs: with it, a writer fails with 'database is locked' after the busy
    timeout, as a page test did in CI while the warm-up ran on a loaded machine."""
    db = Database(f"sqlite:///{tmp_path / 'city.db'}")
    try:
        with db.session() as session:
            session.execute(text("CREATE TABLE alarms (kind TEXT)"))
        with db.reading() as reader:
            assert reader.scalar(text("SELECT count(*) FROM alarms")) == 0  # its snapshot is open
            with db.session() as writer:
                writer.execute(text("INSERT INTO alarms VALUES ('sos')"))
            assert reader.scalar(text("SELECT count(*) FROM alarms")) == 0  # still its snapshot
        with db.reading() as reader:
            assert reader.scalar(text("SELECT kind FROM alarms")) == "sos"
    finally:
        db.dispose()
