"""One PostgreSQL for a team: users added by `synergia db add-user`, each held to their own rows
by the database itself (migration 0009), whatever they send it.

Real login roles, made for each test and dropped after it: two members (ann and ben) and an
admin (ada). Ben connects with psycopg, as ``psql`` would, and tries everything a client can
send to reach ann's rows; none of it may show, change or remove one of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import Container, build
from synergia_tui.core import migrations
from synergia_tui.core.config import Settings
from synergia_tui.core.team import ADMINS, MEMBERS, SHARED_TABLES, USER_TABLES
from synergia_tui.models import AIModelCreate
from tests.support import REPO, Result, run_steps, url_text

SECRET = "zanzibarite"
"""A word only in ann's rows: her chat's title, her prompt and her preset."""


@dataclass
class Team:
    owner: URL  # the database as its owner (the test server's superuser)
    ann: str
    ben: str
    ada: str

    def url(self, user: str) -> URL:
        return self.owner.set(username=user, password=None)

    def conninfo(self, user: str) -> str:
        url = self.url(user)
        return f"host={url.host} port={url.port} dbname={url.database} user={user}"

    def container(self, user: str) -> Container:
        return build(Settings(synergia_database_url=url_text(self.url(user))))

    def run(self, user: str | None, *argv: str) -> Result:
        url = self.owner if user is None else self.url(user)
        # SYNERGIA_USER says someone else: on PostgreSQL it must not matter.
        env: dict[str, str | None] = {"SYNERGIA_DATABASE_URL": url_text(url), "SYNERGIA_USER": "x"}
        (result,) = run_steps([(list(argv), env, REPO)])
        return result


def _drop_roles(owner: URL, names: list[str]) -> None:
    engine = create_engine(owner.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in names:
            conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
    engine.dispose()


@pytest.fixture
def team(postgres_databases) -> Iterator[Team]:  # type: ignore[no-untyped-def]
    owner = postgres_databases.create()
    migrations.upgrade(owner)
    tag = uuid.uuid4().hex[:8]
    made = Team(owner, ann=f"t{tag}_ann", ben=f"t{tag}_ben", ada=f"t{tag}_ada")
    try:
        for name, admin in ((made.ann, False), (made.ben, False), (made.ada, True)):
            result = made.run(None, "db", "add-user", name, *(["--admin"] if admin else []))
            assert result.returncode == 0, result.stderr
        yield made
    finally:
        engine = create_engine(owner, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:  # their sessions end before the roles go
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE usename = ANY(:names)"
                ),
                {"names": [made.ann, made.ben, made.ada]},
            )
        engine.dispose()
        _drop_roles(owner, [made.ann, made.ben, made.ada])


@dataclass
class AnnsRows:
    chat: uuid.UUID
    message: uuid.UUID
    preset: str


def _anns_rows(team: Team) -> AnnsRows:
    """Ann's chat (with a prompt and a reply holding SECRET) and preset, stored through the
    services as she would."""
    ada = team.container(team.ada)
    model = ada.models.add_model(
        AIModelCreate(name="shared", provider="openai", api_model="gpt-4o-mini")
    )
    ada.close()
    ann = team.container(team.ann)
    try:
        chat = ann.chats.create_chat(model_id=model.id, title=f"About {SECRET}")
        prompt = ann.messages.add_user_message(chat.id, f"Tell me of {SECRET}")
        ann.presets.save_preset("mine", f"Never mention {SECRET}.")
        return AnnsRows(chat=chat.id, message=prompt.id, preset="mine")
    finally:
        ann.close()


def test_a_chat_belongs_to_the_role_that_made_it_whatever_synergia_user_says(team):
    rows = _anns_rows(team)
    engine = create_engine(team.owner)
    with engine.connect() as conn:
        owner = conn.execute(text("SELECT user_id FROM chats WHERE id = :id"), {"id": rows.chat})
        message_owner = conn.execute(
            text("SELECT user_id FROM messages WHERE id = :id"), {"id": rows.message}
        )
        assert owner.scalar_one() == team.ann
        assert message_owner.scalar_one() == team.ann
    engine.dispose()
    # SYNERGIA_USER=ben changes nothing: ann still sees her chat, as herself.
    settings = Settings(synergia_database_url=url_text(team.url(team.ann)), synergia_user="ben")
    container = build(settings)
    try:
        assert [c.id for c in container.chats.list_chats().chats] == [rows.chat]
    finally:
        container.close()


def _count(cur: psycopg.Cursor, sql: str, *params: object) -> int:
    cur.execute(sql, params)
    (count,) = cur.fetchone()  # type: ignore[misc]
    return int(count)


def _refused(conn: psycopg.Connection, sql: str, *params: object) -> str:
    """Run ``sql``; it must fail. Returns the server's reason."""
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(sql, params)
    return str(caught.value)


def test_a_member_reaches_no_other_members_rows_by_any_query(team):
    rows = _anns_rows(team)
    ben_services = team.container(team.ben)
    own = ben_services.chats.create_chat(title="Ben's own")
    ben_services.close()

    with psycopg.connect(team.conninfo(team.ben), autocommit=True) as conn:
        cur = conn.cursor()

        def nothing_of_anns() -> None:
            assert _count(cur, "SELECT count(*) FROM chats WHERE id = %s", rows.chat) == 0
            assert _count(cur, "SELECT count(*) FROM messages WHERE chat_id = %s", rows.chat) == 0
            assert (
                _count(cur, "SELECT count(*) FROM prompts WHERE text LIKE %s", f"%{SECRET}%") == 0
            )
            for table in ("chats", "messages"):  # the search index (issue 13) included
                query = f"SELECT count(*) FROM {table} WHERE search @@ to_tsquery('simple', %s)"
                assert _count(cur, query, SECRET) == 0

        # Reading: everything ben can see is his own.
        assert _count(cur, "SELECT count(*) FROM chats") == 1
        assert _count(cur, "SELECT count(*) FROM chats WHERE id = %s", own.id) == 1
        nothing_of_anns()

        # Writing: nothing of ann's changes, and nothing new is made hers.
        assert cur.execute("UPDATE chats SET title = 'x' WHERE id = %s", (rows.chat,)).rowcount == 0
        assert cur.execute("DELETE FROM chats WHERE id = %s", (rows.chat,)).rowcount == 0
        assert cur.execute("UPDATE messages SET content = 'x'").rowcount == 0
        assert cur.execute("DELETE FROM messages").rowcount == 0
        assert cur.execute("DELETE FROM prompts").rowcount == 0
        insert_chat = (
            "INSERT INTO chats (id, user_id, title, is_deleted, created_at, updated_at, "
            "prompt_tokens, completion_tokens, cost) VALUES (%s, %s, 'x', false, now(), now(), "
            "0, 0, 0)"
        )
        assert "row-level security" in _refused(conn, insert_chat, uuid.uuid4(), team.ann)
        insert_message = (
            "INSERT INTO messages (id, chat_id, role, content, status, created_at, is_deleted, "
            "tokens_estimated, on_path) VALUES (%s, %s, 'user', 'x', 'complete', now(), false, "
            "false, true)"
        )
        assert "row-level security" in _refused(conn, insert_message, uuid.uuid4(), rows.chat)
        cur.execute(insert_message, (uuid.uuid4(), own.id))  # into his own chat: fine
        move = "UPDATE messages SET chat_id = %s WHERE chat_id = %s"
        assert "row-level security" in _refused(conn, move, rows.chat, own.id)
        give = "UPDATE chats SET user_id = %s WHERE id = %s"
        assert "row-level security" in _refused(conn, give, team.ann, own.id)
        claim = "UPDATE messages SET user_id = %s"
        assert "row-level security" in _refused(conn, claim, team.ann)

        # Becoming someone else: refused, or it shows nothing more.
        assert "permission denied" in _refused(conn, f"SET ROLE {team.ann}")
        assert "permission denied" in _refused(conn, f"SET SESSION AUTHORIZATION {team.ann}")
        cur.execute(f"SET ROLE {MEMBERS}")  # a group he is in: nobody's rows are its own
        assert _count(cur, "SELECT count(*) FROM chats") == 0
        nothing_of_anns()
        cur.execute("RESET ROLE")
        for setting in ("synergia.user", "app.user", "request.jwt.claim.sub"):
            cur.execute("SELECT set_config(%s, %s, false)", (setting, team.ann))
            nothing_of_anns()
        cur.execute("SET row_security = off")  # only makes a query that needs it fail
        assert "row-level security" in _refused(conn, "SELECT count(*) FROM chats")
        cur.execute("RESET ALL")
        nothing_of_anns()
        cur.execute("PREPARE theirs(uuid) AS SELECT count(*) FROM messages WHERE chat_id = $1")
        assert _count(cur, f"EXECUTE theirs('{rows.chat}')") == 0
        with conn.cursor() as copy_cur:
            with copy_cur.copy("COPY (SELECT id FROM chats) TO STDOUT") as copy:
                copied = [bytes(block) for block in copy]
            assert b"".join(copied).decode().split() == [str(own.id)]

        # Undoing the rules: only the table owner could, and he is not it.
        for statement in (
            "ALTER TABLE chats DISABLE ROW LEVEL SECURITY",
            "ALTER TABLE messages NO FORCE ROW LEVEL SECURITY",
            "DROP POLICY chats_owner ON chats",
            "CREATE POLICY mine ON chats USING (true)",
            "TRUNCATE chats CASCADE",
            "DROP TRIGGER messages_owner ON messages",
            "CREATE TABLE public.stash (x text)",
            "CREATE FUNCTION public.peek() RETURNS bigint AS 'SELECT count(*) FROM chats' "
            "LANGUAGE sql SECURITY DEFINER",
        ):
            reason = _refused(conn, statement)
            assert "must be owner" in reason or "permission denied" in reason, statement
        nothing_of_anns()

    # And ann's rows are all there, as she left them.
    ann = team.container(team.ann)
    try:
        chat = ann.chats.get_chat(rows.chat)
        assert chat.title == f"About {SECRET}"
        assert [m.id for m in ann.messages.list_messages(rows.chat).messages] == [rows.message]
        assert ann.presets.get_preset(rows.preset).text == f"Never mention {SECRET}."
    finally:
        ann.close()


def test_synergia_shows_a_member_none_of_another_members_chats(team):
    rows = _anns_rows(team)
    prefix = str(rows.chat)[:8]
    listed = team.run(team.ben, "chats", "list", "--json")
    assert (listed.returncode, json.loads(listed.stdout)) == (0, [])
    searched = team.run(team.ben, "search", SECRET, "--json")
    assert (searched.returncode, json.loads(searched.stdout)) == (0, [])
    exported = team.run(team.ben, "export", "--format", "json")
    assert exported.returncode == 0 and SECRET not in exported.stdout
    trash = team.run(team.ben, "chats", "trash", "--json")
    assert (trash.returncode, json.loads(trash.stdout)) == (0, [])
    presets = team.run(team.ben, "prompts", "list", "--json")
    assert presets.returncode == 0 and SECRET not in presets.stdout
    for argv in (
        ["chats", "export", prefix, "--format", "json"],
        ["chats", "rename", prefix, "mine now"],
        ["chats", "rm", prefix],
        ["chats", "restore", prefix],
        ["chats", "system", prefix, "Be brief."],
        ["search", SECRET, "--chat", prefix],
        ["ask", "--chat", prefix, "hello"],
    ):
        result = team.run(team.ben, *argv)
        assert result.returncode == 1, (argv, result)
        assert result.stderr.startswith("synergia: ") and len(result.stderr.splitlines()) == 1
        assert SECRET not in result.stdout + result.stderr
    # Ann, meanwhile, still finds it all.
    found = team.run(team.ann, "search", SECRET, "--json")
    assert {hit["chat_id"] for hit in json.loads(found.stdout)} == {str(rows.chat)}


def test_only_admins_change_the_catalogue(team):
    added = team.run(team.ada, "models", "add", "m1", "--provider", "openai", "--model", "x")
    assert added.returncode == 0, added.stderr
    for argv in (
        ["models", "add", "m2", "--provider", "openai", "--model", "x"],
        ["models", "disable", "m1"],
        ["models", "edit", "m1", "--price", "9"],
        ["models", "rm", "m1"],
    ):
        refused = team.run(team.ben, *argv)
        assert refused.returncode == 1, (argv, refused)
        assert refused.stderr == (
            f"synergia: only admins change the model catalogue, and {team.ben} is not one "
            f"(the server's owner runs `synergia db add-user {team.ben} --admin`)\n"
        )
    listed = team.run(team.ben, "models", "list", "--json")
    (model,) = json.loads(listed.stdout)
    price = Decimal(model["price_per_million_tokens"])
    assert (model["name"], model["is_enabled"], price) == ("m1", True, 0)


def test_db_users_add_and_remove(team):
    listed = team.run(None, "db", "users", "--json")
    mine = {u["name"]: u for u in json.loads(listed.stdout) if u["name"] in vars(team).values()}
    assert {name: u["admin"] for name, u in mine.items()} == {
        team.ann: False,
        team.ben: False,
        team.ada: True,
    }
    assert not any(u["sees_every_chat"] for u in mine.values())

    again = team.run(None, "db", "add-user", team.ann)
    assert again.stdout == f"{team.ann} was already a user (member)\n"
    promoted = team.run(None, "db", "add-user", team.ann, "--admin")
    assert promoted.stdout == f"added {team.ann} (admin): an existing login role\n"

    removed = team.run(None, "db", "remove-user", team.ben)
    assert removed.returncode == 0 and removed.stdout.startswith(f"removed {team.ben}: ")
    shut_out = team.run(team.ben, "chats", "list")
    assert shut_out.returncode == 1
    assert f"{team.ben} may not use this database" in shut_out.stderr
    assert len(shut_out.stderr.splitlines()) == 1
    twice = team.run(None, "db", "remove-user", team.ben)
    assert (twice.returncode, twice.stderr) == (
        1,
        f"synergia: '{team.ben}' is not a user of this database\n",
    )
    back = team.run(None, "db", "add-user", team.ben)
    assert back.stdout == f"added {team.ben} (member): an existing login role\n"
    assert team.run(team.ben, "chats", "list").returncode == 0

    # A member cannot make users; names that cannot be a user are refused in one line.
    refused = team.run(team.ben, "db", "add-user", "t_someone_else")
    assert refused.returncode == 1 and "may not manage users" in refused.stderr
    for bad in ("Ann", "1ann", "ann-b", MEMBERS, "pg_ann", "a" * 64):
        result = team.run(None, "db", "add-user", bad)
        assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, bad


def test_every_table_of_a_users_rows_is_held_by_a_forced_policy(team):
    engine = create_engine(team.owner)
    with engine.connect() as conn:
        tables = {
            row.relname: row
            for row in conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                    "pg_get_userbyid(c.relowner) AS owner, "
                    "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r'"
                )
            )
        }
        groups = conn.execute(
            text(
                "SELECT rolname, rolcanlogin, rolbypassrls FROM pg_roles "
                "WHERE rolname = ANY(:g) ORDER BY rolname"
            ),
            {"g": [MEMBERS, ADMINS]},
        ).all()
    engine.dispose()
    # A table that is added later must say which it is: a user's rows, or shared.
    assert set(tables) == set(USER_TABLES) | set(SHARED_TABLES)
    for name in USER_TABLES:
        row = tables[name]
        assert (row.relrowsecurity, row.relforcerowsecurity, row.policies) == (True, True, 1), name
    users = {team.ann, team.ben, team.ada, MEMBERS, ADMINS}
    assert not {row.owner for row in tables.values()} & users
    assert [tuple(g) for g in groups] == [(ADMINS, False, False), (MEMBERS, False, False)]


def test_sqlite_has_no_users(tmp_path):
    env: dict[str, str | None] = {"SYNERGIA_SQLITE_PATH": str(tmp_path / "s.db")}
    for argv in (["db", "users"], ["db", "add-user", "ann"], ["db", "remove-user", "ann"]):
        (result,) = run_steps([(argv, env, REPO)])
        assert result.returncode == 2
        assert result.stderr.startswith("synergia: users are for a shared PostgreSQL database")


def _listen(conninfo: str) -> tuple[psycopg.Connection, str]:
    """A session listening on its user's channel, as live sync does."""
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute("INSERT INTO sync_channels DEFAULT VALUES ON CONFLICT (user_id) DO NOTHING")
    row = conn.execute("SELECT channel FROM sync_channels WHERE user_id = current_user").fetchone()
    assert row is not None
    conn.execute(f'LISTEN "{row[0]}"')
    return conn, str(row[0])


def test_no_notification_tells_a_member_of_another_members_rows(team):
    anns, ann_channel = _listen(team.conninfo(team.ann))
    bens, ben_channel = _listen(team.conninfo(team.ben))
    try:
        # Ben cannot learn ann's channel, nor make one in her name.
        assert bens.execute("SELECT channel FROM sync_channels").fetchall() == [(ben_channel,)]
        assert "row-level security" in _refused(
            bens, "INSERT INTO sync_channels (user_id) VALUES (%s)", team.ann
        )
        rows = _anns_rows(team)  # ann's session writes a chat, a prompt, a preset
        ann = team.container(team.ann)
        ann.chats.rename_chat(rows.chat, "Renamed")
        ann.chats.delete_chat(rows.chat)
        ann.close()
        heard_by_ann = {n.payload for n in anns.notifies(timeout=2.0)}
        assert heard_by_ann == {str(rows.chat)}  # ids only: the chat's, nothing else
        assert list(bens.notifies(timeout=1.0)) == []  # and ben hears nothing of it
        # Listening on her channel would need its name, which only she can read; a guess at
        # the pattern hears nothing either.
        bens.execute('LISTEN "synergia_"')
        assert list(bens.notifies(timeout=0.5)) == []
        assert ann_channel != ben_channel
    finally:
        anns.close()
        bens.close()
