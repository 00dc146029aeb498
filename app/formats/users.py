"""Wire schemas of user management (``/api/v1/users``, admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.enums import Role

Username = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$")]
Password = Annotated[str, Field(min_length=8, max_length=1024)]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: Username
    role: Role
    password: Password


class UserPatchIn(BaseModel):
    """Any of: ``disabled`` (a disabled user is cut everywhere within a second), ``role``, ``password``
    (a reset also ends the user's sessions)."""

    model_config = ConfigDict(extra="forbid")

    disabled: bool | None = None
    role: Role | None = None
    password: Password | None = None


class UserOut(BaseModel):
    username: str
    role: Role
    disabled: bool
    created_at: datetime
    active_sessions: int = 0


class SessionsEndedOut(BaseModel):
    username: str
    ended: int
