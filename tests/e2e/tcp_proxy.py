"""A small HTTP forward proxy (asyncio, in a thread) that a browser is pointed at with ``--proxy-server``, so
the test can cut the connection for real (see /work/shared/notes/offline-and-signatures.md):

* ``up``: requests (absolute-form, rewritten to origin-form) and ``CONNECT`` tunnels (the websocket) are
  passed to the app;
* ``down``: every open connection is closed and new ones are closed at once (the browser sees a failure);
* ``blackhole``: connections stay open, requests still reach the app, but nothing comes back (a silent drop:
  a lesson may be stored while its reply is lost).
"""
from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit


class Proxy:
    def __init__(self) -> None:
        self.mode = "up"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # ── control (from the test's thread) ──
    def start(self) -> Proxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def set(self, mode: str) -> None:
        assert mode in ("up", "down", "blackhole")
        self.mode = mode
        if mode == "down":
            asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(5)

    def stop(self) -> None:
        self.set("down")
        self._loop.call_soon_threadsafe(self._loop.stop)

    # ── the proxy ──
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _close_all(self) -> None:
        for w in list(self._writers):
            w.close()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, back: bool) -> None:
        try:
            while data := await reader.read(65536):
                if self.mode == "down":
                    break
                if back and self.mode == "blackhole":
                    continue  # the reply is lost
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "down":
            writer.close()
            return
        self._writers.add(writer)
        upstream_w = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, version = head.split(b"\r\n", 1)[0].split(b" ", 2)
            if method == b"CONNECT":
                host, port = target.decode().rsplit(":", 1)
                up_r, upstream_w = await asyncio.open_connection(host, int(port))
                self._writers.add(upstream_w)
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await asyncio.gather(self._pipe(reader, upstream_w, back=False), self._pipe(up_r, writer, back=True))
                return
            url = urlsplit(target.decode())
            up_r, upstream_w = await asyncio.open_connection(url.hostname, url.port or 80)
            self._writers.add(upstream_w)
            back = asyncio.ensure_future(self._pipe(up_r, writer, back=True))
            while True:  # one request after another on this keep-alive connection
                if self.mode == "down":
                    break
                line, rest = head.split(b"\r\n", 1)
                method, target, version = line.split(b" ", 2)
                u = urlsplit(target.decode())
                path = (u.path or "/") + (f"?{u.query}" if u.query else "")
                headers = rest.replace(b"Proxy-Connection:", b"Connection:")
                upstream_w.write(method + b" " + path.encode() + b" " + version + b"\r\n" + headers)
                length = 0
                for h in rest.split(b"\r\n"):
                    if h.lower().startswith(b"content-length:"):
                        length = int(h.split(b":", 1)[1])
                if length:
                    upstream_w.write(await reader.readexactly(length))
                await upstream_w.drain()
                head = await reader.readuntil(b"\r\n\r\n")
            back.cancel()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError, ValueError):
            pass
        finally:
            writer.close()
            if upstream_w is not None:
                upstream_w.close()
            self._writers.discard(writer)
            self._writers.discard(upstream_w)
