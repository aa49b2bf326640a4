"""User accounts: create, disable, delete, roles and passwords.

The web admin and the ``feedhub users`` command share these functions so both
enforce the same rules: usernames are short and printable, passwords have a
minimum length and are stored only as werkzeug hashes, and the instance never
loses its last active admin through a role change, a disable or a delete.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from feedhub.models import User

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


class UserError(ValueError):
    """A user-facing reason why an account change was refused.

    ``field`` names the form field the message belongs next to ("username",
    "password" or "" for the whole form).
    """

    def __init__(self, message: str, field: str = "", **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message  # English msgid; the web layer translates it
        self.field = field
        self.params = params

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


def N_(message: str) -> str:
    """Marks a msgid for extraction; translation happens where it is shown."""
    return message


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def check_username(username: str) -> str:
    """The stripped username, or :class:`UserError` when it is not acceptable."""
    name = username.strip()
    if not USERNAME_PATTERN.match(name):
        raise UserError(
            N_("Use 1 to 100 letters, digits and . _ @ - (starting with a letter or digit)."),
            "username",
        )
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            N_("The password needs at least %(n)d characters."), "password", n=MIN_PASSWORD_LENGTH
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(N_("The password is too long."), "password")


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip()))


def active_admin_count(session: Session) -> int:
    count = session.scalar(
        select(func.count()).select_from(User).where(User.is_admin, User.disabled.is_(False))
    )
    return int(count or 0)


def has_admin(session: Session) -> bool:
    """True when at least one enabled admin can log in."""
    return active_admin_count(session) > 0


def create_user(session: Session, username: str, password: str, *, is_admin: bool = False) -> User:
    name = check_username(username)
    check_password(password)
    if get_user(session, name) is not None:
        raise UserError(N_("This username is taken."), "username")
    user = User(username=name, password_hash=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Store a new password and log out the user's other sessions."""
    check_password(password)
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.flush()


def _is_last_admin(session: Session, user: User) -> bool:
    return user.is_admin and not user.disabled and active_admin_count(session) <= 1


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    if disabled and _is_last_admin(session, user):
        raise UserError(N_("The last active admin cannot be disabled."))
    if user.disabled != disabled:
        user.disabled = disabled
        user.session_version += 1
    session.flush()


def set_admin(session: Session, user: User, is_admin: bool) -> None:
    if not is_admin and _is_last_admin(session, user):
        raise UserError(N_("The last active admin cannot lose the admin role."))
    if user.is_admin != is_admin:
        user.is_admin = is_admin
        user.session_version += 1
    session.flush()


def delete_user(session: Session, user: User) -> None:
    """Delete the account; its read marks and stars go with it (foreign keys cascade)."""
    if _is_last_admin(session, user):
        raise UserError(N_("The last active admin cannot be deleted."))
    session.delete(user)
    session.flush()
