"""One mock as a test sees it: its URL, its account, clients, and helpers that wait by identity.

Every helper speaks the control API over HTTP, so the same handle works whether the mock
runs on the test's event loop or on a background thread (see `testing.sync`).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from emay_mock.client import EmayClient, SimpleClient
from emay_mock.control_auth import Credentials, from_env
from emay_mock.testing.receiver import Receiver

_KEY_ALPHABET = string.ascii_letters + string.digits


def new_account(**fields: Any) -> dict[str, Any]:
    """An account object (as in the config file) with a fresh appId and secretKey."""
    account: dict[str, Any] = {
        "appId": f"EUCP-PYTEST-{secrets.token_hex(4).upper()}",
        "secretKey": "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
        "balance": 1_000_000,
    }
    account.update(fields)
    return account


class MockApiError(AssertionError):
    """The control API answered something other than what the helper expected."""


@dataclass
class EmayMockHandle:
    url: str
    account: dict[str, Any]
    receiver: Receiver | None = None
    http: aiohttp.ClientSession = field(default_factory=aiohttp.ClientSession)
    # Sent with every control call; by default what EMAY_MOCK_CONTROL_AUTH holds, if anything.
    control_auth: Credentials | None = field(default_factory=from_env)
    client: EmayClient = field(init=False)
    simple: SimpleClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = EmayClient(self.url, self.app_id, self.secret_key, session=self.http)
        self.simple = SimpleClient(self.url, self.app_id, self.secret_key, session=self.http)

    @property
    def app_id(self) -> str:
        return str(self.account["appId"])

    @property
    def secret_key(self) -> str:
        return str(self.account["secretKey"])

    async def aclose(self) -> None:
        await self.http.close()

    # -- plumbing -----------------------------------------------------------------------------

    async def _call(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        if self.control_auth is not None:
            kwargs["headers"] = {"Authorization": self.control_auth.header(), **kwargs.get("headers", {})}
        async with self.http.request(method, f"{self.url}{path}", **kwargs) as resp:
            body = await resp.json(content_type=None)
            if resp.status not in ok:
                raise MockApiError(f"{method} {path} answered {resp.status}: {body}")
            return body

    # -- looking --------------------------------------------------------------------------------

    async def messages(self, **filters: Any) -> list[dict[str, Any]]:
        """This account's messages, newest first; filters: mobile, smsId, customSmsId, state, q, limit."""
        params = {"appId": self.app_id, **{k: str(v) for k, v in filters.items()}}
        return list((await self._call("GET", "/_mock/messages", params=params))["messages"])

    async def message(self, sms_id: str) -> dict[str, Any]:
        """One message with its timeline, pushes, replies and clicks."""
        return dict(await self._call("GET", f"/_mock/messages/{sms_id}"))

    async def pushes(self, **filters: Any) -> list[dict[str, Any]]:
        params = {"appId": self.app_id, **{k: str(v) for k, v in filters.items()}}
        return list((await self._call("GET", "/_mock/pushes", params=params))["pushes"])

    async def journal(self, **filters: Any) -> list[dict[str, Any]]:
        params = {"appId": self.app_id, **{k: str(v) for k, v in filters.items()}}
        return list((await self._call("GET", "/_mock/journal", params=params))["entries"])

    async def contract(self) -> dict[str, Any]:
        """What this client did that the vendor document does not allow."""
        return dict(await self._call("GET", "/_mock/contract", params={"appId": self.app_id}))

    async def assert_clean(self) -> None:
        """Fail unless this account's run had no deviation and no refusal a scenario did not script.

        What official Emay clients do is observed, never held against the run. The failure
        message is the contract report's explanation: each deviation and refusal with its example.
        """
        report = await self.contract()
        if not report["clean"]:
            raise AssertionError(report["explanation"])

    async def outcomes(self) -> dict[str, Any]:
        """The outcomes this account met (`seen`) and never did (`unseen`, and `howTo` provoke each)."""
        return dict(await self._call("GET", "/_mock/outcomes", params={"appId": self.app_id}))

    async def coverage(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/_mock/scenarios/coverage"))

    # -- steering -------------------------------------------------------------------------------

    async def advance(self, seconds: float) -> dict[str, Any]:
        """Move the scheduler's clock, running every report, push and retry due, in order."""
        return dict(await self._call("POST", "/_mock/clock/advance", json={"seconds": seconds}))

    async def inject_mo(self, mobile: str, content: str, extended_code: str | None = None) -> dict[str, Any]:
        """A phone replies: an MO delivered to this account like any other."""
        body = {"appId": self.app_id, "mobile": mobile, "content": content}
        if extended_code is not None:
            body["extendedCode"] = extended_code
        return dict((await self._call("POST", "/_mock/mo", json=body))["mo"])

    async def click(self, sms_id: str, user_agent: str | None = None) -> dict[str, Any]:
        """Click the short link of a message sent with sendShortLinkSMS."""
        message = (await self.message(sms_id))["message"]
        if not message["shortUrl"]:
            raise MockApiError(f"message {sms_id} has no short link")
        code = message["shortUrl"].rsplit("/", 1)[-1]
        body = {"userAgent": user_agent} if user_agent else {}
        return dict((await self._call("POST", f"/_mock/shortlinks/{code}/click", json=body))["click"])

    async def load_scenario(self, scenario: str | Path, name: str | None = None) -> dict[str, Any]:
        """Load a scenario from a file path or from YAML text."""
        text = Path(scenario).read_text("utf-8") if isinstance(scenario, Path) else scenario
        if isinstance(scenario, str) and "\n" not in scenario and Path(scenario).is_file():
            text = Path(scenario).read_text("utf-8")
        params = {"name": name} if name else {}
        return dict(
            (await self._call("POST", "/_mock/scenarios", data=text.encode(), params=params))["scenario"]
        )

    async def add_account(self, **fields: Any) -> dict[str, Any]:
        """Another account on the same mock (fresh appId and key unless given)."""
        account = new_account(**fields)
        await self._call("POST", "/_mock/accounts", json=account)
        return account

    async def templates(self, **filters: Any) -> list[dict[str, Any]]:
        """This account's templates, newest first; filters: status (pending…deleted), before, limit."""
        params = {"appId": self.app_id, **{k: str(v) for k, v in filters.items()}}
        return list((await self._call("GET", "/_mock/templates", params=params))["templates"])

    async def review_template(self, template_id: str, status: str = "approved") -> dict[str, Any]:
        """Decide a template as the platform's reviewer: "approved" or "rejected"."""
        path = f"/_mock/templates/{template_id}/review"
        return dict((await self._call("POST", path, json={"status": status}))["template"])

    async def set_balance(self, balance: int | None = None, *, add: int | None = None) -> int:
        """Set this account's balance (or add to it) by hand; answers the balance now."""
        body = {"set": balance} if add is None else {"add": add}
        return int((await self._call("POST", f"/_mock/accounts/{self.app_id}/balance", json=body))["balance"])

    async def reset(self) -> None:
        """Forget this account's messages, queues, pushes and journal; restore its balance."""
        await self._call("POST", "/_mock/reset", json={"appId": self.app_id})

    # -- waiting by identity --------------------------------------------------------------------

    async def _wait(self, what: str, timeout: float, **params: Any) -> dict[str, Any]:
        query = {k: str(v) for k, v in params.items() if v is not None}
        query["timeout"] = str(timeout)
        return dict(await self._call("GET", f"/_mock/wait/{what}", params=query, ok=(200,)))

    async def wait_for_message(
        self, *, mobile: str | None = None, custom_sms_id: str | None = None, sms_id: str | None = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:  # fmt: skip
        found = await self._wait("message", timeout, appId=self.app_id, mobile=mobile,
                                 customSmsId=custom_sms_id, smsId=sms_id)  # fmt: skip
        return dict(found["message"])

    async def wait_for_report(self, sms_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The message once its final report exists (state, reportTime…)."""
        return dict((await self._wait("report", timeout, smsId=sms_id))["message"])

    async def wait_for_push(self, sms_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The push batch that delivered this message's report (with its items and attempts)."""
        return dict((await self._wait("push", timeout, smsId=sms_id))["push"])

    async def wait_for_mo(
        self, *, mobile: str | None = None, content: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        return dict(
            (await self._wait("mo", timeout, appId=self.app_id, mobile=mobile, content=content))["mo"]
        )
