"""Short links: real short URLs served by the mock, clicks recorded and pulled (§2.1.11, §2.1.14)."""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ua_parser import parse as parse_ua

from emay_mock.delivery.clock import Clock
from emay_mock.delivery.scheduler import Scheduler
from emay_mock.observe.events import EventHub
from emay_mock.observe.outcomes import LINK_CLICKED, OutcomeBook
from emay_mock.platform.accounts import Account
from emay_mock.platform.routing import Router
from emay_mock.protocol import payloads
from emay_mock.protocol.send import SendOrder
from emay_mock.protocol.templates import SHORT_LINK
from emay_mock.store.jobs import Job
from emay_mock.store.links import ClickRow, LinkRow, LinkStore
from emay_mock.store.messages import Messages
from emay_mock.store.queues import PullQueues
from emay_mock.store.rows import MessageRow

if TYPE_CHECKING:
    from faker import Faker

CLICK = "click"
PATH_PREFIX = "/s/"
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Device:
    equipment: str
    browser: str


@lru_cache(maxsize=1024)
def describe_user_agent(user_agent: str) -> Device:
    """Equipment and browser as Emay reports them, e.g. "Windows 10" and "Chrome"."""
    result = parse_ua(user_agent)
    equipment, browser = "Unknown", "Unknown"
    if result.os is not None:
        version = ".".join(part for part in (result.os.major, result.os.minor) if part)
        equipment = f"{result.os.family} {version}".strip()
    if result.user_agent is not None:
        browser = result.user_agent.family
    return Device(equipment, browser)


def click_item(click: ClickRow, tz: ZoneInfo) -> dict[str, Any]:
    """A click as getShortLink and the push carry it (§2.1.14)."""
    return payloads.click(
        mobile=click.mobile,
        access_ms=click.access_at,
        equipment=click.equipment,
        browser=click.browser,
        long_link=click.long_link,
        access_address=click.access_address,
        user_agent=click.user_agent,
        app_id=click.app_id,
        tz=tz,
    )


@dataclass
class PlannedLinks:
    """The codes a send will create: one for the request (rule 1) or one per recipient (rule 2)."""

    rule: str
    long_url: str
    codes: list[str]
    short_urls: list[str]


class Links:
    def __init__(
        self,
        store: LinkStore,
        messages: Messages,
        scheduler: Scheduler,
        clock: Clock,
        router: Router,
        queues: PullQueues,
        outcomes: OutcomeBook,
        events: EventHub,
        tz: ZoneInfo,
        user_agents: Executor,
    ) -> None:
        """`user_agents`: where User-Agents are parsed; ua-parser compiles its regexes on first
        use, which must not hold the event loop up (one worker also serialises that use)."""
        self.store = store
        self.messages = messages
        self.clock = clock
        self.router = router
        self.queues = queues
        self.outcomes = outcomes
        self.events = events
        self.tz = tz
        self.user_agents = user_agents
        self._faker: Faker | None = None
        scheduler.on_async(CLICK, self._click_due)

    def faker(self) -> Faker:
        if self._faker is None:
            # Imported on first use: faker is slow to import, and most runs never click.
            from faker import Faker

            self._faker = Faker()
        return self._faker

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(_ALPHABET) for _ in range(10))
            if self.store.get(code) is None:
                return code

    def plan(self, order: SendOrder, base_url: str) -> PlannedLinks:
        """Codes and short URLs for an order, substituted into each recipient's content."""
        spec = order.short_link
        assert spec is not None
        count = 1 if spec.rule == "1" else len(order.recipients)
        codes = [self._new_code() for _ in range(count)]
        urls = [f"{base_url}{PATH_PREFIX}{code}" for code in codes]
        per_recipient = [urls[0 if spec.rule == "1" else i] for i in range(len(order.recipients))]
        for recipient, url in zip(order.recipients, per_recipient, strict=True):
            if recipient.content is not None:
                recipient.content = recipient.content.replace(SHORT_LINK, url)
        return PlannedLinks(spec.rule, spec.url, codes, per_recipient)

    def save(self, account: Account, planned: PlannedLinks, rows: list[MessageRow]) -> None:
        now = self.clock.now_ms()
        if planned.rule == "1":
            # One link for the request: it names the request's first message, for the console.
            first = rows[0].sms_id if rows else None
            links = [LinkRow(planned.codes[0], account.app_id, planned.long_url, planned.short_urls[0], "1",
                             None, first, now)]  # fmt: skip
        else:
            links = [
                LinkRow(code, account.app_id, planned.long_url, url, "2", row.mobile, row.sms_id, now)
                for code, url, row in zip(planned.codes, planned.short_urls, rows, strict=True)
            ]
        # A link goes (with its clicks) when retention removes the last message carrying it.
        for link in links:
            link.users = len(rows) if planned.rule == "1" else 1
        self.store.insert(links)

    # -- clicks -------------------------------------------------------------------------------

    async def click(self, code: str, user_agent: str | None, *, source: str) -> ClickRow | None:
        """A phone opens the short URL: record the click (None if the code is unknown).

        A real request's User-Agent is recorded as sent, even when it is absent; only a
        simulated click without one gets a realistic User-Agent from faker.
        """
        link = self.store.get(code)
        if link is None:
            return None
        agent = user_agent or ("" if source == "http" else self.faker().user_agent())
        device = await asyncio.get_running_loop().run_in_executor(
            self.user_agents, describe_user_agent, agent
        )
        return self._record(link, agent, device, source)

    def _record(self, link: LinkRow, agent: str, device: Device, source: str) -> ClickRow:
        click = ClickRow(0, link.app_id, link.code, link.mobile, self.clock.now_ms(), device.equipment,
                         device.browser, link.long_url, link.short_url, agent, source)  # fmt: skip
        self.store.add_click(click)
        self.router.route(link.app_id, "click", [click], self.item)
        self.outcomes.saw(link.app_id, LINK_CLICKED)
        self.events.publish("click", link.app_id, click)
        return click

    async def _click_due(self, job: Job) -> Callable[[], None]:
        """A click a scenario planned: on the link of the message it names."""
        message = self.messages.by_sms_id(str(job.payload["smsId"]))
        code = None
        if message is not None and message.short_url:
            code = message.short_url.rsplit("/", 1)[-1]
        link = self.store.get(code) if code else None
        if link is None:
            return lambda: None
        agent = job.payload.get("userAgent") or self.faker().user_agent()
        device = await asyncio.get_running_loop().run_in_executor(
            self.user_agents, describe_user_agent, agent
        )

        def commit() -> None:
            self._record(link, agent, device, "scenario")

        return commit

    def item(self, click: ClickRow) -> dict[str, Any]:
        return click_item(click, self.tz)

    def pull(self, account: Account, number: int) -> list[dict[str, Any]]:
        return [self.item(row) for row in self.queues.take(account.app_id, "click", number)]
