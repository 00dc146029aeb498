"""User management (admin, API and CLI): list, add, disable/enable, change role, reset password, end
sessions. Disabling a user or ending its sessions cuts its requests, live feed and video within a second
(every check of a session reads the user's state; see app/engine/auth.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.engine.auth import end_user_sessions
from app.engine.errors import conflict, not_found
from app.engine.passwords import hash_password
from app.engine.work import Work
from app.formats.users import UserOut, UserPatchIn
from app.store.models import SessionRow, UserRow


def _active(session: Session, now: datetime) -> dict[int, int]:
    rows = session.execute(
        select(SessionRow.user_id, func.count())
        .where(SessionRow.ended_at.is_(None), SessionRow.expires_at > now)
        .group_by(SessionRow.user_id)
    ).all()
    return {int(uid): int(n) for uid, n in rows}


def user_out(row: UserRow, active: int = 0) -> UserOut:
    return UserOut(
        username=row.username,
        role=Role(row.role),
        disabled=row.disabled,
        created_at=row.created_at,
        active_sessions=active,
    )


def list_users(session: Session, now: datetime) -> list[UserOut]:
    active = _active(session, now)
    rows = session.scalars(select(UserRow).order_by(UserRow.username)).all()
    return [user_out(r, active.get(r.id, 0)) for r in rows]


def find_user(session: Session, username: str) -> UserRow:
    row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
    if row is None:
        raise not_found("user", username)
    return row


def _other_enabled_admins(session: Session, user: UserRow) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(UserRow)
            .where(UserRow.role == Role.ADMIN.value, UserRow.disabled.is_(False), UserRow.id != user.id)
        )
        or 0
    )


def patch_user(work: Work, username: str, body: UserPatchIn, password_hash: str | None = None) -> UserOut:
    """``password_hash``: ``body.password`` already hashed by the caller, outside the transaction (argon2id
    costs tens of milliseconds; the writer is not held for it, issue 17)."""
    user = find_user(work.session, username)
    losing_admin = (
        user.role == Role.ADMIN.value
        and not user.disabled
        and (body.disabled is True or (body.role is not None and body.role is not Role.ADMIN))
    )
    if losing_admin and _other_enabled_admins(work.session, user) == 0:
        raise conflict("this is the last enabled admin; make another admin first")
    ended = 0
    if body.role is not None and body.role.value != user.role:
        work.audit("user.role", "user", username, old=user.role, new=body.role.value)
        user.role = body.role.value
    if body.disabled is not None and body.disabled != user.disabled:
        user.disabled = body.disabled
        work.audit("user.disable" if body.disabled else "user.enable", "user", username)
        if body.disabled:
            ended += end_user_sessions(work.session, user.id, work.now)
    if body.password is not None:
        user.password_hash = password_hash or hash_password(body.password)
        ended += end_user_sessions(work.session, user.id, work.now)
        work.audit("user.password_reset", "user", username)
    if ended:
        work.audit("user.sessions_end", "user", username, ended=ended)
    work.session.flush()
    return user_out(user, _active(work.session, work.now).get(user.id, 0))


def end_sessions(work: Work, username: str) -> int:
    user = find_user(work.session, username)
    ended = end_user_sessions(work.session, user.id, work.now)
    work.audit("user.sessions_end", "user", username, ended=ended)
    return ended
