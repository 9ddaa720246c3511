"""Serve an ASGI app from a background thread on a loopback port (tests and demo mode)."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

START_DEADLINE_S = 15.0


class BackgroundServer:
    """uvicorn serving `app` from a daemon thread on a pre-bound 127.0.0.1 socket."""

    def __init__(self, app: object, port: int = 0) -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so,
        # and without it every keep-alive answer waits ~40 ms for a delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind(("127.0.0.1", port))
        self.port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> None:
        """Start serving; returns once `/` answers 200, raises if it does not in time."""
        self._thread.start()
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError("the background server thread exited during start-up")
            if self._server.started and _answers(f"{self.base_url}/"):
                return
            time.sleep(0.02)  # polling interval, not a wait for readiness
        self.stop()
        raise RuntimeError(f"the background server did not start within {START_DEADLINE_S} s")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False
