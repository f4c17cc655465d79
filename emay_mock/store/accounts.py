"""Accounts and their balances, as stored: the spec as JSON, the balance beside it."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

from emay_mock.settings import AccountSpec, PushSettings, UpstreamSettings
from emay_mock.store.db import Database
from emay_mock.store.log import Log

UPSERT = (
    "INSERT INTO accounts(app_id, spec, balance) VALUES (?, ?, ?) "
    "ON CONFLICT(app_id) DO UPDATE SET spec = excluded.spec, balance = excluded.balance"
)
BALANCE = "UPDATE accounts SET balance = ? WHERE app_id = ?"


def spec_to_json(spec: AccountSpec) -> str:
    return json.dumps(asdict(spec))


def spec_from_json(text: str) -> AccountSpec:
    data: dict[str, Any] = json.loads(text)
    push = data.get("push")
    upstream = data.get("upstream")
    spec = AccountSpec(
        **{**data, "push": None, "upstream": None, "allowed_ips": tuple(data.get("allowed_ips", ()))}
    )
    if push is not None:
        spec = replace(spec, push=PushSettings(**{**push, "retry_schedule": tuple(push["retry_schedule"])}))
    if upstream is not None:
        spec = replace(spec, upstream=UpstreamSettings(**upstream))
    return spec


class AccountStore:
    def __init__(self, db: Database, log: Log) -> None:
        self.db = db
        self.log = log

    @property
    def durable(self) -> bool:
        return self.db.durable

    def load(self) -> list[tuple[AccountSpec, int]]:
        rows = self.db.rows("SELECT spec, balance FROM accounts")
        return [(spec_from_json(str(spec)), int(str(balance))) for spec, balance in rows]

    def put(self, spec: AccountSpec, balance: int) -> None:
        # At once, after what is pending: a balance change already waiting must not follow it.
        self.log.now([(UPSERT, (spec.app_id, spec_to_json(spec), balance))])

    def set_balance(self, app_id: str, balance: int) -> None:
        self.log.update(BALANCE, ("balance", app_id), (balance, app_id))
