"""Migrations on both backends: round trips, no drift, and what start-up does with old schemas."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.schema import CreateIndex

from synergia_tui.bootstrap import build
from synergia_tui.core import migrations, paths
from synergia_tui.core.db import create_db_engine
from synergia_tui.core.errors import MigrationError, SchemaError
from synergia_tui.models import metadata
from tests.conftest import settings_for
from tests.support import add_model, run_python

TABLES = {"models", "chats", "messages", "alembic_version"}


def _tables(url) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _revision(url) -> str | None:
    engine = create_db_engine(url)
    try:
        return migrations.current_revision(engine)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trips(empty_db_url):
    head = migrations.head_revision()
    migrations.upgrade(empty_db_url)
    assert _tables(empty_db_url) >= TABLES
    assert _revision(empty_db_url) == head
    migrations.downgrade(empty_db_url, "base")
    assert _tables(empty_db_url) <= {"alembic_version"}
    assert _revision(empty_db_url) is None
    migrations.upgrade(empty_db_url)
    assert _revision(empty_db_url) == head
    assert _tables(empty_db_url) >= TABLES


def test_the_models_match_the_migrations_without_drift(db_url):
    command.check(migrations.alembic_config(db_url))


def test_the_schema_has_the_indexes_the_queries_need(db_url):
    engine = create_db_engine(db_url)
    try:
        inspector = inspect(engine)
        message_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("messages")}
        chat_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("chats")}
    finally:
        engine.dispose()
    assert ("chat_id", "created_at", "id") in message_indexes
    assert ("user_id", "is_deleted", "updated_at") in chat_indexes


def test_start_up_finds_interrupted_replies_through_the_partial_index_not_a_scan(container, db_url):
    statements: list[tuple[str, object]] = []
    engine = container.db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM messages" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        container.replies.recover_interrupted()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1
    statement, parameters = statements[0]
    with engine.connect() as conn:
        if db_url.get_backend_name() == "sqlite":
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table is scanned anyway
            plan = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).fetchall()
    assert "ix_messages_streaming" in " ".join(str(row) for row in plan)


NEXT_REVISION = '''"""a later revision, only for tests"""

import sqlalchemy as sa
from alembic import op

revision = "9002"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("test_later", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("test_later")
'''


FAILING_REVISION = '''"""a revision that changes the schema and the data, then fails: only for tests"""

import sqlalchemy as sa
from alembic import op

revision = "9003"
down_revision = "9002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("test_half_done", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("half_done", sa.Integer(), nullable=True))
    op.execute("UPDATE models SET half_done = 1, name = 'renamed'")
    raise RuntimeError("the data check found a model it cannot convert")


def downgrade() -> None:
    op.drop_table("test_half_done")
'''
# The head of the migrations this checkout really ships.
SHIPPED_HEAD = migrations.head_revision()


def _ship(root: Path, monkeypatch: pytest.MonkeyPatch, *revisions: tuple[str, str]) -> Path:
    """Pretend this Synergia ships ``revisions`` (file name, source) after the real ones."""
    shutil.copytree(paths.resource("migrations"), root / "migrations")
    shutil.copy(paths.resource("alembic.ini"), root / "alembic.ini")
    for name, source in revisions:
        (root / "migrations" / "versions" / name).write_text(source)
    monkeypatch.setattr(paths, "resource", lambda name: root / name)
    return root


@pytest.fixture
def newer_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pretend this Synergia ships one more revision than the repository (returns its id)."""
    later = ("9002_later.py", NEXT_REVISION.format(head=SHIPPED_HEAD))
    _ship(tmp_path / "newer-code", monkeypatch, later)
    return "9002"


@pytest.fixture
def failing_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This Synergia ships 9002 (which works) and 9003 (which fails half-way); returns where."""
    return _ship(
        tmp_path / "failing-code",
        monkeypatch,
        ("9002_later.py", NEXT_REVISION.format(head=SHIPPED_HEAD)),
        ("9003_half_done.py", FAILING_REVISION),
    )


def _database_at_the_shipped_head_with_a_model(url: URL) -> None:
    migrations.upgrade(url, SHIPPED_HEAD)
    container = build(settings_for(url))
    try:
        add_model(container, "gpt")
    finally:
        container.close()


def _left_at_9002_with_nothing_of_9003(url: URL) -> None:
    """Each migration commits alone: 9002 stays, and 9003 left no table, column or change."""
    assert _revision(url) == "9002"
    tables = _tables(url)
    assert "test_later" in tables and "test_half_done" not in tables
    engine = create_db_engine(url)
    try:
        assert "half_done" not in {c["name"] for c in inspect(engine).get_columns("models")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM models")).scalars().all() == ["gpt"]
    finally:
        engine.dispose()


def test_a_migration_that_fails_half_way_is_rolled_back_whole(empty_db_url, failing_code):
    _database_at_the_shipped_head_with_a_model(empty_db_url)
    with pytest.raises(MigrationError, match="^migration 9003 failed: the data check") as failed:
        migrations.upgrade(empty_db_url)
    assert failed.value.revision == "9003"
    _left_at_9002_with_nothing_of_9003(empty_db_url)


_WITH_FAILING_CODE = """
import sys
from pathlib import Path
from synergia_tui.core import paths
paths.resource = lambda name: Path({root!r}) / name
from synergia_tui.main import main
sys.exit(main({argv!r}))
"""


def _synergia_with(root: Path, url: URL, *argv: str) -> subprocess.CompletedProcess[str]:
    return run_python(
        _WITH_FAILING_CODE.format(root=str(root), argv=list(argv)),
        SYNERGIA_DATABASE_URL=url.render_as_string(hide_password=False),
        SYNERGIA_USER="alice",
    )


def test_db_upgrade_says_which_migration_failed_in_one_line_and_exits_1(empty_db_url, failing_code):
    _database_at_the_shipped_head_with_a_model(empty_db_url)
    result = _synergia_with(failing_code, empty_db_url, "db", "upgrade")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        "synergia: migration 9003 failed: the data check found a model it cannot convert"
    ]
    _left_at_9002_with_nothing_of_9003(empty_db_url)


def test_the_upgrade_at_start_that_fails_says_one_line_and_keeps_the_backup(tmp_path, failing_code):
    database = tmp_path / "data" / "synergia.db"
    url = URL.create("sqlite+pysqlite", database=str(database))
    _database_at_the_shipped_head_with_a_model(url)
    result = _synergia_with(failing_code, url, "models", "list")
    assert (result.returncode, result.stdout) == (1, "")
    [line] = result.stderr.splitlines()
    [backup] = database.parent.glob("synergia.db.*.bak")
    assert line == (
        "synergia: migration 9003 failed: the data check found a model it cannot convert; "
        f"the database as it was is saved in {backup}"
    )
    _left_at_9002_with_nothing_of_9003(url)


def test_the_embedded_database_is_upgraded_on_start_after_a_private_backup(tmp_path, newer_code):
    url = URL.create("sqlite+pysqlite", database=str(tmp_path / "data" / "synergia.db"))
    migrations.upgrade(url, "0001")  # an older Synergia made this database, and stored a model
    with sqlite3.connect(tmp_path / "data" / "synergia.db") as conn:
        conn.execute(
            "INSERT INTO models (id, name, provider, api_model, price_per_million_tokens,"
            " is_enabled, is_deleted, created_at, updated_at) VALUES"
            " (?, 'gpt', 'openai', 'gpt', '0', 1, 0, '2026-11-27 00:00:00', '2026-11-27 00:00:00')",
            (uuid.uuid4().hex,),
        )
    container = build(settings_for(url))
    container.ensure_schema()
    assert migrations.current_revision(container.db.engine) == newer_code
    assert [m.name for m in container.models.list_models()] == ["gpt"]
    container.close()
    backups = list((tmp_path / "data").glob("synergia.db.*.bak"))
    assert len(backups) == 1
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert ".0001." in backups[0].name
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT name FROM models").fetchall() == [("gpt",)]
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]


def test_a_new_embedded_database_is_created_without_a_backup(tmp_path):
    url = URL.create("sqlite+pysqlite", database=str(tmp_path / "data" / "synergia.db"))
    container = build(settings_for(url))
    container.ensure_schema()
    container.close()
    assert _revision(url) == migrations.head_revision()
    assert not list((tmp_path / "data").glob("*.bak"))


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_server_schema_behind_the_code_is_refused_with_the_fix(empty_db_url, newer_code):
    migrations.upgrade(empty_db_url, "0001")
    container = build(settings_for(empty_db_url))
    try:
        with pytest.raises(SchemaError, match="synergia db upgrade"):
            container.ensure_schema()
    finally:
        container.close()
    assert _revision(empty_db_url) == "0001"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_an_empty_server_database_is_not_migrated_silently(empty_db_url):
    container = build(settings_for(empty_db_url))
    try:
        with pytest.raises(SchemaError, match="empty.*synergia db upgrade"):
            container.ensure_schema()
    finally:
        container.close()
    assert _tables(empty_db_url) == set()


def test_a_schema_newer_than_the_code_is_refused_and_left_untouched(backend, request):
    url = request.getfixturevalue("empty_db_url")
    migrations.upgrade(url)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    engine.dispose()
    container = build(settings_for(url))
    try:
        with pytest.raises(SchemaError, match="f00dcafe.*newer Synergia.*left untouched"):
            container.ensure_schema()
    finally:
        container.close()
    assert _revision(url) == "f00dcafe"
    assert _tables(url) >= TABLES
    if backend == "sqlite":
        assert not list(Path(url.database).parent.glob("*.bak"))


def test_the_light_revision_reader_agrees_with_alembic(newer_code):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config())
    assert migrations.head_revision() == script.get_current_head() == newer_code
    assert set(migrations.known_revisions()) == {rev.revision for rev in script.walk_revisions()}


def test_checking_an_up_to_date_schema_does_not_load_alembic(tmp_path):
    database = tmp_path / "db.sqlite"
    migrations.upgrade(URL.create("sqlite+pysqlite", database=str(database)))
    code = (
        "import sys; from synergia_tui.bootstrap import build; "
        "from synergia_tui.core.config import Settings; "
        f"c = build(Settings(synergia_sqlite_path={str(database)!r})); "
        "c.ensure_schema(); print(c.health.check().status, 'alembic' in sys.modules, "
        "'sqlalchemy.dialects.postgresql' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Nor PostgreSQL's dialect (4 MiB of drivers) when the database is SQLite.
    assert out.stdout.split() == ["healthy", "False", "False"]


def test_partial_indexes_carry_their_predicate_for_the_backend_in_use(container):
    dialect = container.db.engine.dialect
    for table, name, where in (
        ("models", "uq_models_name_live", "is_deleted = false"),
        ("messages", "ix_messages_streaming", "status = 'streaming'"),
    ):
        index = next(ix for ix in metadata.tables[table].indexes if ix.name == name)
        assert str(CreateIndex(index).compile(dialect=dialect)).endswith(f"WHERE {where}")


def test_upgrading_to_chat_totals_adds_up_what_each_chat_already_holds(empty_db_url):
    migrations.upgrade(empty_db_url, "0002")  # an older Synergia made this database
    engine = create_db_engine(empty_db_url)
    chat_a, chat_b, chat_c = (uuid.uuid4() for _ in range(3))
    sqlite = engine.dialect.name == "sqlite"

    def key(value):
        return value.hex if sqlite else value

    now = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        for chat in (chat_a, chat_b, chat_c):
            conn.execute(
                text(
                    "INSERT INTO chats (id, user_id, title, is_deleted, created_at, updated_at) "
                    "VALUES (:id, 'alice', 't', false, :now, :now)"
                ),
                {"id": key(chat), "now": now},
            )
        for chat, prompt, completion, cost, deleted in (
            (chat_a, 1234, 567, "0.000525300000", False),
            (chat_a, 1, 2, "0.000000000001", False),
            (chat_a, 99, 99, "9.5", True),  # deleted: not counted
            (chat_b, None, None, None, False),  # a prompt
        ):
            conn.execute(
                text(
                    "INSERT INTO messages (id, chat_id, role, content, status, prompt_tokens, "
                    "completion_tokens, cost, created_at, is_deleted) VALUES (:id, :chat, "
                    "'assistant', 'x', 'complete', :p, :c, :cost, :now, :deleted)"
                ),
                {
                    "id": key(uuid.uuid4()),
                    "chat": key(chat),
                    "p": prompt,
                    "c": completion,
                    "cost": cost if sqlite or cost is None else Decimal(cost),
                    "now": now,
                    "deleted": deleted,
                },
            )
    engine.dispose()
    migrations.upgrade(empty_db_url)
    container = build(settings_for(empty_db_url))
    try:
        usage = {chat: container.chats.usage(chat) for chat in (chat_a, chat_b, chat_c)}
    finally:
        container.close()
    assert (usage[chat_a].prompt_tokens, usage[chat_a].completion_tokens) == (1235, 569)
    assert usage[chat_a].cost == Decimal("0.000525300001")
    assert (usage[chat_b].prompt_tokens, usage[chat_b].cost) == (0, Decimal(0))
    assert (usage[chat_c].completion_tokens, usage[chat_c].cost) == (0, Decimal(0))


def test_the_migrated_schema_accepts_every_status_the_models_know(container):
    """Alembic's drift check does not compare CHECK constraints: every status is tried."""
    from synergia_tui.core.errors import ConflictError
    from synergia_tui.models import STATUSES, AIModelCreate, Message

    model = container.models.add_model(AIModelCreate(name="m", provider="openai", api_model="x"))
    chat = container.chats.create_chat(model_id=model.id)
    for status in STATUSES:
        with container.db.unit_of_work(write=True) as uow:
            uow.messages.add(Message(chat_id=chat.id, role="assistant", status=status))
            uow.commit()
    with pytest.raises(ConflictError), container.db.unit_of_work(write=True) as uow:
        uow.messages.add(Message(chat_id=chat.id, role="assistant", status="bogus"))
        uow.commit()
