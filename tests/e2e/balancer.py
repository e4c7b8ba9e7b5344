"""A round-robin load balancer for the browser (asyncio, in a thread), pointed at with ``--proxy-server``: every
connection the browser opens (a page, an asset, the websocket's ``CONNECT`` tunnel) goes to the next of the
backends in turn, whatever address the browser asked for. Plain requests are sent with ``Connection: close``,
so a reload opens a new connection and lands on the other backend (as behind a real proxy without stickiness).
Page loads (requests that accept ``text/html``) take turns on their own, so whatever number of assets and
tunnels a page opens, successive page loads alternate between the backends.
``picks`` records the backend each connection went to."""
from __future__ import annotations

import asyncio
import itertools
import threading
from urllib.parse import urlsplit


class Balancer:
    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = 0
        self.picks: list[int] = []
        self._next = itertools.cycle(backends)
        self._next_page = itertools.cycle(backends)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Balancer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_w = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line, rest = head.split(b"\r\n", 1)
            method, target, version = line.split(b" ", 2)
            is_page = method == b"GET" and b"\r\naccept: text/html" in (b"\r\n" + rest.lower())
            backend = next(self._next_page if is_page else self._next)
            self.picks.append(backend)
            up_r, upstream_w = await asyncio.open_connection("127.0.0.1", backend)
            if method == b"CONNECT":  # the websocket: a tunnel to this backend for as long as it lives
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:  # one request, origin-form, then the connection closes
                u = urlsplit(target.decode())
                path = (u.path or "/") + (f"?{u.query}" if u.query else "")
                headers = [h for h in rest.split(b"\r\n")
                           if h and not h.lower().startswith((b"proxy-connection:", b"connection:", b"keep-alive:"))]
                upstream_w.write(method + b" " + path.encode() + b" " + version + b"\r\n"
                                 + b"\r\n".join([*headers, b"Connection: close"]) + b"\r\n\r\n")
                length = 0
                for h in headers:
                    if h.lower().startswith(b"content-length:"):
                        length = int(h.split(b":", 1)[1])
                if length:
                    upstream_w.write(await reader.readexactly(length))
                await upstream_w.drain()
            await asyncio.gather(self._pipe(reader, upstream_w), self._pipe(up_r, writer))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError, ValueError):
            pass
        finally:
            writer.close()
            if upstream_w is not None:
                upstream_w.close()
