"""The reference server of figure 1: aiohttp alone, a fixed answer on the same path.

It runs like `emay-mock serve` (same aiohttp runner, no access log, default event loop)
and, like the mock, reads the whole body and answers with the `result` header and a body
the size of a real sendSingleSMS answer; it decrypts, validates and stores nothing.
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

# The length of an encrypted, gzipped sendSingleSMS answer.
FIXED_BODY = bytes(96)


async def send_single_sms(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=FIXED_BODY, headers={"result": "SUCCESS"})


async def main() -> None:
    app = web.Application()
    app.router.add_post("/inter/sendSingleSMS", send_single_sms)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, reuse_address=True)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"bare aiohttp listening on http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
