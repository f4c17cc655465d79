"""The docs keep their word: every relative link in README.md and docs/ resolves, and every
fenced block marked runnable runs, as written, against a live mock.

A runnable block carries `runnable` after its language in the info string:

    ```sh runnable            shell, run by bash (with `set -euo pipefail`; curl fails on HTTP errors)
    ```python runnable        a script, run by python; or, if its first line is `# test_x.py`,
                              a test file, run by pytest

Each page gets a fresh `emay-mock serve` (the demo account, the built-in scenarios) and its
runnable blocks run in page order against it, so a block may rely on what the blocks before
it did. The mock's address replaces `http://127.0.0.1:8999` and `localhost:8999` in the
blocks and is also given as `$EMAY_MOCK_URL`. Each block runs in a fresh directory with the
`emay-mock` command on its PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import ROOT
from tests.e2e.process import run_command, serve

NODE_CLIENT = ROOT / "tests" / "e2e" / "node" / "emay_client.mjs"

PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
README_MAX_LINES = 250
# Documents that readers of the repository do not have, and the directory they were kept in.
OUTSIDE = re.compile(r"EMAY_API|INTERFACE\.md|\.\./shared|/shared/")

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
EXPLICIT_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HTML_LINK = re.compile(r"""<(?:a|img)\s[^>]*?(?:href|src)=["']([^"']+)["']""")
INLINE_CODE = re.compile(r"(`+).+?\1")
MOCK_ADDRESS = re.compile(r"(?:http://)?(?:127\.0\.0\.1|localhost):8999")


@dataclass
class Block:
    page: Path
    line: int
    language: str
    runnable: bool
    text: str


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def split(page: Path) -> tuple[list[tuple[int, str]], list[Block]]:
    """The page's prose lines (numbered, outside fences) and its fenced blocks."""
    prose: list[tuple[int, str]] = []
    blocks: list[Block] = []
    lines = page.read_text("utf-8").splitlines()
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if not opened:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        indent, fence, info = len(opened["indent"]), opened["fence"], opened["info"].split()
        start = i + 1
        body: list[str] = []
        i += 1
        while i < len(lines) and not re.match(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[i]):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        language = info[0] if info else ""
        blocks.append(Block(page, start, language, "runnable" in info[1:], "\n".join(body) + "\n"))
        i += 1
    return prose, blocks


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    kept = "".join(
        c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "Mn"
    )
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    prose, _ = split(page)
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose:
        found.update(EXPLICIT_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading:
            base = slug(heading["text"])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    prose, _ = split(page)
    found = []
    for number, line in prose:
        line = INLINE_CODE.sub("", line)
        for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK):
            found += [(number, target) for target in pattern.findall(line)]
    return found


def broken(page: Path) -> list[str]:
    problems = []
    for number, target in links(page):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            continue  # an outside address: not checked here
        where = f"{rel(page)}:{number}: {target}"
        path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not path.is_relative_to(ROOT):
            problems.append(f"{where}: points outside the repository")
        elif not path.exists():
            problems.append(f"{where}: no such file")
        elif parts.fragment:
            if path.suffix != ".md":
                problems.append(f"{where}: an anchor into a file that is not Markdown")
            elif unquote(parts.fragment) not in anchors(path):
                problems.append(f"{where}: {rel(path)} has no anchor #{parts.fragment}")
    return problems


def test_every_relative_link_resolves() -> None:
    problems = [problem for page in PAGES for problem in broken(page)]
    assert problems == [], "\n".join(problems)


def test_no_page_points_outside_the_repository() -> None:
    found = [
        f"{rel(page)}:{number}: {line.strip()}"
        for page in PAGES
        for number, line in enumerate(page.read_text("utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == [], "\n".join(found)


def test_the_readme_fits_a_newcomers_five_minutes() -> None:
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_the_link_checker_knows_githubs_anchors() -> None:
    assert slug("`/inter/sendSingleSMS` (§2.1.1)") == "intersendsinglesms-211"
    assert slug("Python: emay-mock's own clients") == "python-emay-mocks-own-clients"
    assert slug("C#") == "c"
    assert slug("Report (状态报告)") == "report-状态报告"
    assert slug("Testing your callback receiver's retry handling, in under a minute") == (
        "testing-your-callback-receivers-retry-handling-in-under-a-minute"
    )


RUNNABLE = {page: [b for b in split(page)[1] if b.runnable] for page in PAGES}


def test_runnable_blocks_are_ones_this_test_can_run() -> None:
    blocks = [b for page_blocks in RUNNABLE.values() for b in page_blocks]
    odd = [f"{rel(b.page)}:{b.line}: {b.language}" for b in blocks if b.language not in ("sh", "python")]
    assert odd == [], odd
    assert any(b.page.name == "README.md" for b in blocks), "the README's tour must be runnable"


async def run_block(block: Block, url: str, workdir: Path) -> tuple[int, str, str]:
    text = MOCK_ADDRESS.sub(url, block.text)
    env = {
        "EMAY_MOCK_URL": url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        # The client's tests in docs/ci.md's recipe: a small client of ours, in Node.
        "RUN_CLIENT_TESTS": f"node {NODE_CLIENT}",
    }
    if "RUN_CLIENT_TESTS" in block.text and shutil.which("node") is None:
        pytest.fail(f"{rel(block.page)}:{block.line}: node is not on PATH; the recipe's client needs Node.js")
    if block.language == "sh":
        script = 'set -euo pipefail\ncurl() { command curl --fail --show-error "$@"; }\n' + text
        return await run_command(["bash", "-c", script], env=env, cwd=workdir)
    first = text.splitlines()[0] if text.strip() else ""
    test_file = re.fullmatch(r"# (test_\w+\.py)", first.strip())
    if test_file:
        (workdir / test_file[1]).write_text(text, "utf-8")
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file[1]]
        return await run_command(argv, env=env, cwd=workdir, timeout=120)
    (workdir / "example.py").write_text(text, "utf-8")
    return await run_command([sys.executable, "example.py"], env=env, cwd=workdir)


@pytest.mark.parametrize("page", [p for p in PAGES if RUNNABLE[p]], ids=rel)
async def test_the_runnable_blocks_run_against_a_live_mock(page: Path, tmp_path: Path) -> None:
    async with serve([]) as served:
        for number, block in enumerate(RUNNABLE[page]):
            workdir = tmp_path / f"block-{number}"
            workdir.mkdir()
            code, out, err = await run_block(block, served.url, workdir)
            assert code == 0, (
                f"{rel(page)}:{block.line}: the {block.language} block failed ({code}):\n{out}\n{err}"
            )
