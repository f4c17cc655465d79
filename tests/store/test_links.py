"""The short-link store: found by code, listed newest first by the console's cursor, and
what retention or a reset removes gone from both, however many links there are."""

from __future__ import annotations

from emay_mock.store.db import Database
from emay_mock.store.links import LinkRow, LinkStore
from emay_mock.store.log import Log


def link(i: int) -> LinkRow:
    return LinkRow(f"c{i}", "AB"[i % 2], "https://example.com", f"http://mock/c{i}", "2", None, None, i)


def test_pages_by_code_and_cursor_stay_right_as_links_go_from_the_front_and_the_middle() -> None:
    store = LinkStore(Database(None), Log(Database(None)))
    made = [link(i) for i in range(8000)]
    store.insert(made)
    removed = {f"c{i}" for i in range(4100)} | {f"c{i}" for i in range(4100, 8000, 3)}
    store.remove(sorted(removed, key=lambda code: int(code[1:])))
    live = [row for row in made if row.code not in removed]

    def expected(app_id: str | None, before: int | None, limit: int) -> list[str]:
        rows = [r for r in reversed(live) if (app_id is None or r.app_id == app_id)
                and (before is None or r.seq < before)]  # fmt: skip
        return [r.code for r in rows[:limit]]

    for app_id in (None, "A", "B"):
        for before in (None, made[7999].seq, made[6000].seq, made[4200].seq, made[100].seq):
            got = [r.code for r in store.links(app_id, before, 700)]
            assert got == expected(app_id, before, 700), (app_id, before)
    assert all(store.get(r.code) is r for r in live)
    assert not any(store.get(code) for code in removed)

    store.forget("A")
    assert [r.code for r in store.links(None, None, 10_000)] == [
        r.code for r in reversed(live) if r.app_id == "B"
    ]
    assert store.get("c4102") is None and store.get("c4101") is not None  # A's went, B's stayed
