"""The control API's credentials (`--control-auth USER:PASSWORD`): parsed, checked, sent.

One place for the format, shared by the server (which checks them), the CLI and config
(which read them) and the test handle (which sends them). The password never appears
in a message, a repr or a log line.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from dataclasses import dataclass, field

ENV = "EMAY_MOCK_CONTROL_AUTH"
REALM = 'Basic realm="emay-mock"'
FORMAT = "USER:PASSWORD (a user without ':' and a password, neither empty)"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)

    def header(self) -> str:
        """The Authorization header a client sends."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"

    def allows(self, authorization: str | None) -> bool:
        """Whether an Authorization header carries these credentials, compared in constant time."""
        if not authorization:
            return False
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, colon, password = decoded.partition(b":")
        # Both compared whatever the first answers, so the time says nothing of which was wrong.
        user_ok = hmac.compare_digest(user, self.user.encode())
        password_ok = hmac.compare_digest(password, self.password.encode())
        return bool(colon) and user_ok and password_ok


def parse_credentials(text: str) -> Credentials:
    """`USER:PASSWORD` (the password may hold ':'); ValueError, without the text, if malformed."""
    user, colon, password = text.partition(":")
    if not colon or not user or not password:
        raise ValueError(f"control auth must be {FORMAT}")
    return Credentials(user, password)


def from_env() -> Credentials | None:
    """The credentials in EMAY_MOCK_CONTROL_AUTH, or None when it is unset or empty."""
    text = os.environ.get(ENV)
    return parse_credentials(text) if text else None
