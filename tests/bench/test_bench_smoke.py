"""The benchmark's pieces still work: its bodies are real requests, its table and JSON are
written, and one figure runs end to end at the smallest scale. No speed is asserted here."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench import bodies, handler, pair, report
from bench.figures import growth, startup
from bench.harness import Context
from emay_mock.protocol import envelope


def test_pre_generated_bodies_are_distinct_valid_requests(tmp_path: Path) -> None:
    path = tmp_path / "bodies.bin"
    assert bodies.write(path, bodies.generate(bodies.batch(3), 4)) == 4
    data, found = path.read_bytes(), []
    while data:
        length, _, rest = data.partition(b"\n")
        found.append(rest[: int(length)])
        data = rest[int(length) :]
    assert len(set(found)) == 4  # never the same ciphertext twice: replay protection stays on
    decoded = [envelope.decode_response(b, bodies.KEY, gzip_on=True) for b in found]
    assert decoded[1]["smses"][0] == {"mobile": "13800000003", "customSmsId": "bench-13800000003"}
    assert {d["requestValidPeriod"] for d in decoded} == {bodies.VALID_PERIOD_S}


def test_startup_figure_runs_and_is_reported(tmp_path: Path) -> None:
    ctx = Context(tmp_path, tmp_path, scale=0.01)
    (figure,) = startup.startup(ctx)
    assert figure.number == "6" and figure.measured > 0 and len(figure.details["runs_s"]) == 1
    out = tmp_path / "results.json"
    report.write(out, [figure], report.machine())
    written = json.loads(out.read_text())
    assert written["figures"][0]["measured"] == figure.measured
    assert written["machine"]["python"]
    assert "start-up to /_mock/health 200" in report.table([figure])


async def test_the_handler_figure_runs_the_real_handler_to_success() -> None:
    per_request_us, table = await handler.measure(200, profile=True)
    assert per_request_us > 0
    assert "sending.py" in table and "(send)" in table  # the send ran: every answer was SUCCESS


def test_the_growth_figure_times_every_send_of_the_real_handler(tmp_path: Path) -> None:
    (figure,) = growth.growth(Context(tmp_path, tmp_path, scale=0.01))
    assert figure.number == "10" and figure.details["sends"] == 20_000
    assert figure.reference is not None and 0 < figure.reference <= figure.measured  # median, slowest
    assert figure.details["over_count"] >= len(figure.details["over_2_ms"])


async def test_the_bytecode_count_follows_the_handler_through_the_request_path() -> None:
    ops, calls, rows = await handler.bytecodes(50)
    by_name = {name: (n, called) for name, n, called in rows}
    assert by_name["secure.py:_run"][1] == 1  # once a request, each answered SUCCESS
    assert by_name["sending.py:send"][1] == 1
    assert ops == pytest.approx(sum(n for _, n, _ in rows)) and calls >= 20


def test_the_instruction_count_runs_the_handler_twice_under_callgrind() -> None:
    per_request = handler.instructions(300)  # 100 and 300 sends; valgrind installed if missing
    assert 50_000 < per_request < 2_000_000  # some 190,000 on this project's machine


def test_the_pair_runs_a_revision_s_package_beside_the_working_tree_s(tmp_path: Path) -> None:
    """`bench.pair` compares builds: `.` is this checkout's package, a revision is its own
    copy of the package, and each server imports the package under its root."""
    assert pair.package_of(".", tmp_path / "here") == pair.ROOT
    head = pair.package_of("HEAD", tmp_path / "head")
    assert (head / "emay_mock" / "cli.py").read_bytes() == subprocess.run(
        ["git", "show", "HEAD:emay_mock/cli.py"], cwd=pair.ROOT, capture_output=True, check=True
    ).stdout
    argv = pair.serve_argv(head, tmp_path / "c.yaml")
    where = subprocess.run(
        [argv[0], "-c", argv[2].split("; from ")[0] + "; import emay_mock; print(emay_mock.__file__)"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert Path(where.strip()).parent == head / "emay_mock"
    with pytest.raises(SystemExit, match="no revision 'no-such-rev'"):
        pair.package_of("no-such-rev", tmp_path / "none")
    assert pair.median_ratio([100.0, 200.0, 50.0], [90.0, 220.0, 50.0]) == 1.0
