"""An MQTT broker inside the process, for ``facility demo`` on a machine that has none.

amqtt (pure Python, from PyPI) speaks MQTT 3.1.1, so the service and the simulators connect
to it with 3.1.1; it keeps sessions and queues in memory only. For anything but a demo, use
Mosquitto with the settings in ``deploy/mosquitto``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="embedded-mqtt", daemon=True)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the embedded MQTT broker did not start")
        if self._error is not None:
            raise RuntimeError(f"the embedded MQTT broker failed: {self._error}") from self._error
        log.info("embedded MQTT broker (amqtt, MQTT 3.1.1) on %s", self.url)

    def _serve(self) -> None:
        from amqtt.broker import Broker

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }

        async def main() -> None:
            self._broker = Broker(config)
            try:
                await self._broker.start()
            except BaseException as error:
                self._error = error
                raise
            finally:
                self._ready.set()

        try:
            loop.run_until_complete(main())
            loop.run_forever()
        except BaseException as error:
            self._error = self._error or error
            self._ready.set()
        finally:
            loop.close()

    def stop(self) -> None:
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or not loop.is_running():
            return
        future = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
        try:
            future.result(10)
        except Exception:
            log.warning("embedded MQTT broker did not shut down cleanly")
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
