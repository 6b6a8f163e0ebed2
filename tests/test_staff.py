"""Staff accounts and their roles (greenweb.staff): one account may hold both roles, every
account holds at least one, and a session says what its account may do now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import aiosqlite
import pytest

from greenweb import security, staff
from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.staff import MODERATORE, REDATTORE, ROLES, StaffError, StaffMember
from support.board import PASSWORD, T0, cheap_password_hashing, query

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _cheap_argon2() -> Iterator[None]:
    with cheap_password_hashing():
        yield


def write(settings: Settings, change: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    """``change`` in one write transaction, as the CLI and the views run it."""

    async def work(db: Database) -> T:
        async with db.transaction() as conn:
            return await change(conn)

    return with_database(settings.db_path, work)


def read(settings: Settings, look: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    return with_database(settings.db_path, lambda db: look(db.reader))


def add(settings: Settings, name: str, *roles: str) -> int:
    password_hash = security.hash_password(PASSWORD)
    return write(settings, lambda conn: staff.add(conn, name, password_hash, T0, roles))


def listed(settings: Settings, role: str | None = None) -> list[StaffMember]:
    return read(settings, lambda conn: staff.list_all(conn, role))


def role_rows(settings: Settings) -> list[tuple[str, str]]:
    return [
        (name, role)
        for name, role in query(
            settings,
            "SELECT m.name, r.role FROM staff_roles r JOIN moderators m ON m.id = r.moderator_id "
            "ORDER BY m.name, r.role",
        )
    ]


def test_the_roles_are_the_moderators_and_the_editors() -> None:
    assert (MODERATORE, REDATTORE) == ROLES == ("moderatore", "redattore")


def test_an_account_holds_the_roles_it_was_given(settings: Settings) -> None:
    add(settings, "anna", MODERATORE, REDATTORE)
    add(settings, "lucia", REDATTORE)
    anna, lucia = listed(settings)
    assert anna.roles == frozenset(ROLES) and anna.sorted_roles == ROLES
    assert anna.can(MODERATORE) and anna.can(REDATTORE)
    assert lucia.roles == frozenset({REDATTORE})
    assert lucia.can(REDATTORE) and not lucia.can(MODERATORE)
    assert role_rows(settings) == [
        ("anna", MODERATORE),
        ("anna", REDATTORE),
        ("lucia", REDATTORE),
    ]


def test_the_list_of_one_role_leaves_the_others_out(settings: Settings) -> None:
    add(settings, "anna", MODERATORE)
    add(settings, "lucia", REDATTORE)
    add(settings, "marco", REDATTORE, MODERATORE)
    assert [m.name for m in listed(settings)] == ["anna", "lucia", "marco"]
    assert [m.name for m in listed(settings, MODERATORE)] == ["anna", "marco"]
    assert [m.name for m in listed(settings, REDATTORE)] == ["lucia", "marco"]


BAD_ROLES = [
    ((), "give at least one role"),
    (("capo",), "unknown role 'capo'"),
    ((REDATTORE, "Moderatore"), "unknown role 'Moderatore'"),
]


@pytest.mark.parametrize(("roles", "message"), BAD_ROLES)
def test_an_account_without_a_known_role_is_not_made(
    settings: Settings, roles: tuple[str, ...], message: str
) -> None:
    with pytest.raises(StaffError, match=message):
        add(settings, "anna", *roles)
    assert listed(settings) == []
    assert role_rows(settings) == []


def test_a_taken_name_is_refused_whatever_its_case(settings: Settings) -> None:
    add(settings, "anna", REDATTORE)
    with pytest.raises(StaffError, match="already exists"):
        add(settings, "ANNA", MODERATORE)
    assert role_rows(settings) == [("anna", REDATTORE)]


def test_set_roles_replaces_every_role(settings: Settings) -> None:
    add(settings, "anna", MODERATORE)
    both = write(settings, lambda conn: staff.set_roles(conn, "anna", [REDATTORE, MODERATORE]))
    assert both.roles == frozenset(ROLES)
    assert listed(settings)[0].roles == frozenset(ROLES)
    editor = write(settings, lambda conn: staff.set_roles(conn, "anna", [REDATTORE]))
    assert editor.roles == frozenset({REDATTORE})
    assert role_rows(settings) == [("anna", REDATTORE)]


@pytest.mark.parametrize(("roles", "message"), BAD_ROLES)
def test_set_roles_refuses_no_role_or_an_unknown_one_and_keeps_the_old(
    settings: Settings, roles: tuple[str, ...], message: str
) -> None:
    add(settings, "anna", MODERATORE)
    with pytest.raises(StaffError, match=message):
        write(settings, lambda conn: staff.set_roles(conn, "anna", roles))
    assert role_rows(settings) == [("anna", MODERATORE)]


def test_set_roles_of_nobody_is_refused(settings: Settings) -> None:
    with pytest.raises(StaffError, match="'nessuno': no such staff account"):
        write(settings, lambda conn: staff.set_roles(conn, "nessuno", [REDATTORE]))


def test_remove_takes_the_roles_and_sessions_with_the_account(settings: Settings) -> None:
    member_id = add(settings, "anna", MODERATORE, REDATTORE)
    write(settings, lambda conn: staff.open_session(conn, member_id, T0, 3600))
    write(settings, lambda conn: staff.remove(conn, "anna"))
    assert listed(settings) == []
    assert role_rows(settings) == []
    assert query(settings, "SELECT count(*) FROM moderator_sessions") == [(0,)]


def test_remove_holding_a_role_leaves_an_account_without_it(settings: Settings) -> None:
    add(settings, "lucia", REDATTORE)
    with pytest.raises(StaffError, match="'lucia': no such moderator"):
        write(settings, lambda conn: staff.remove(conn, "lucia", holding=MODERATORE))
    with pytest.raises(StaffError, match="'nessuno': no such staff account"):
        write(settings, lambda conn: staff.remove(conn, "nessuno"))
    assert [m.name for m in listed(settings)] == ["lucia"]


def test_login_and_session_carry_the_roles_as_they_are_now(settings: Settings) -> None:
    add(settings, "anna", MODERATORE)
    member = read(settings, lambda conn: staff.authenticate(conn, "anna", PASSWORD))
    assert member is not None and member.roles == frozenset({MODERATORE})
    assert read(settings, lambda conn: staff.authenticate(conn, "anna", "sbagliata")) is None
    session_id, _ = write(settings, lambda conn: staff.open_session(conn, member.id, T0, 3600))

    def session_member() -> StaffMember | None:
        return read(settings, lambda conn: staff.session_member(conn, session_id, T0 + 1))

    assert session_member() == member
    write(settings, lambda conn: staff.set_roles(conn, "anna", [REDATTORE]))
    now = session_member()
    assert now is not None and now.roles == frozenset({REDATTORE})
    write(settings, lambda conn: staff.close_session(conn, session_id))
    assert session_member() is None
