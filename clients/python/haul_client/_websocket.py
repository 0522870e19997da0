"""JSON-RPC over WebSocket with `websockets` (hand-written runtime): calls
on one shared connection (`WebSocketRpc`), and a connection that calls and
reads notifications in line, one at a time (`Channel`, which the event
stream in `_events` builds on). `wss://` verifies the daemon with the
client's TLS context when it has one; a `unix:` URL connects to its socket."""

import asyncio
import itertools
import json
import ssl
from collections import deque
from typing import Any, Callable, Optional, TypeVar, Union

from websockets.asyncio.client import ClientConnection, connect, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from ._endpoint import WEBSOCKET_URL, socket_path
from ._errors import ErrorFromWire, TransportError
from ._jsonrpc import (
    MAX_MESSAGE_SIZE,
    decoded,
    reason,
    refusal,
    request,
    result_of,
    snippet,
    unexpected,
    unreachable,
)

T = TypeVar("T")


async def open_websocket(
    url: str,
    token: str,
    timeout: float,
    error_from_wire: ErrorFromWire,
    ssl_context: Optional[ssl.SSLContext] = None,
) -> ClientConnection:
    """A WebSocket authenticated with the bearer header at the upgrade (never
    the token in the URL). A refusal with a JSON-RPC error body (401) is the
    `HaulError` it carries."""
    options: dict[str, Any] = {
        "additional_headers": {"Authorization": f"Bearer {token}"},
        "open_timeout": timeout,
        "max_size": MAX_MESSAGE_SIZE,
    }
    path = socket_path(url)
    try:
        if path is not None:
            return await unix_connect(path, WEBSOCKET_URL, **options)
        # websockets refuses a context for ws://, which has no TLS to use it.
        if ssl_context is not None and url.startswith("wss:"):
            options["ssl"] = ssl_context
        return await connect(url, **options)
    except InvalidStatus as e:
        response = e.response
        raise refusal(url, response.status_code, response.body, error_from_wire) from e
    except (OSError, asyncio.TimeoutError, WebSocketException) as e:
        raise unreachable(url, e) from e


def refused_status(error: BaseException) -> Optional[int]:
    """The HTTP status a WebSocket upgrade was refused with, when `error` is
    `open_websocket`'s refusal (raised from the `InvalidStatus`)."""
    cause = error.__cause__
    return cause.response.status_code if isinstance(cause, InvalidStatus) else None


def closed(url: str, error: Optional[BaseException]) -> TransportError:
    why = f": {reason(error)}" if error is not None else ""
    return TransportError(
        f"the connection to the haul daemon at {url} closed{why}", url
    )


def no_answer(url: str, timeout: float) -> TransportError:
    return TransportError(
        f"no answer from the haul daemon at {url} within {timeout:g} s", url
    )


class WebSocketRpc:
    """asyncio calls over one WebSocket, opened on first use (or by
    `connect`) and opened again after it closes. Answers are matched to
    calls by id, so calls may run concurrently. The daemon pushes its
    notifications to every WebSocket, this one included; they are dropped
    here (`AsyncClient.events()` is the way to read them)."""

    def __init__(
        self,
        url: str,
        token: str,
        timeout: float,
        error_from_wire: ErrorFromWire,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout
        self._error_from_wire = error_from_wire
        self._ssl_context = ssl_context
        self._ids = itertools.count(1)
        self._connection: Optional[ClientConnection] = None
        self._reader: Optional["asyncio.Task[None]"] = None
        self._pending: dict[int, "asyncio.Future[Any]"] = {}
        # Created on first use: before Python 3.10 a lock binds to the loop
        # current at its creation.
        self._lock: Optional[asyncio.Lock] = None

    async def connect(self) -> ClientConnection:
        if self._connection is not None:
            return self._connection
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            connection = self._connection
            if connection is None:
                connection = await open_websocket(
                    self._url,
                    self._token,
                    self._timeout,
                    self._error_from_wire,
                    self._ssl_context,
                )
                self._connection = connection
                self._reader = asyncio.ensure_future(self._read(connection))
            return connection

    async def call(self, method: str, params: Optional[dict[str, Any]]) -> Any:
        connection = await self.connect()
        id = next(self._ids)
        answer: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._pending[id] = answer
        try:
            await connection.send(json.dumps(request(id, method, params)))
            message = await asyncio.wait_for(answer, self._timeout)
        except ConnectionClosed as e:
            raise closed(self._url, e) from e
        except asyncio.TimeoutError:
            raise no_answer(self._url, self._timeout) from None
        finally:
            self._pending.pop(id, None)
        return result_of(self._url, message, id, self._error_from_wire)

    async def _read(self, connection: ClientConnection) -> None:
        """Hands each response to its call until the connection closes, then
        fails the calls still waiting."""
        error: Optional[BaseException] = None
        try:
            async for text in connection:
                try:
                    message = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(message, dict) or "method" in message:
                    continue
                id = message.get("id")
                answer = self._pending.get(id) if isinstance(id, int) else None
                if answer is not None and not answer.done():
                    answer.set_result(message)
        except ConnectionClosed as e:
            error = e
        finally:
            if self._connection is connection:
                self._connection = None
            for answer in self._pending.values():
                if not answer.done():
                    answer.set_exception(closed(self._url, error))

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
        reader, self._reader = self._reader, None
        if reader is not None:
            # It ends with the connection; how is of no interest any more.
            await asyncio.gather(reader, return_exceptions=True)


class Channel:
    """One WebSocket that calls and reads in line, one thing at a time, so
    that what it reads keeps the daemon's order: the notifications that
    arrive before a call's answer are kept for later, after it, or dropped;
    `notification` returns the kept ones first. Not for concurrent use."""

    def __init__(
        self,
        connection: ClientConnection,
        url: str,
        timeout: float,
        error_from_wire: ErrorFromWire,
    ) -> None:
        self.connection = connection
        self._url = url
        self._timeout = timeout
        self._error_from_wire = error_from_wire
        self._ids = itertools.count(1)
        self._backlog: deque[Any] = deque()

    @staticmethod
    async def open(
        url: str,
        token: str,
        timeout: float,
        error_from_wire: ErrorFromWire,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> "Channel":
        connection = await open_websocket(
            url, token, timeout, error_from_wire, ssl_context
        )
        return Channel(connection, url, timeout, error_from_wire)

    async def call(
        self,
        method: str,
        params: Optional[dict[str, Any]],
        decode: Callable[[Any], T],
        *,
        keep: bool,
    ) -> T:
        """Calls `method` and decodes its result. The notifications that arrive
        before the answer are kept when `keep` holds, else dropped."""
        id = next(self._ids)
        try:
            await self.connection.send(json.dumps(request(id, method, params)))
        except ConnectionClosed as e:
            raise closed(self._url, e) from e
        try:
            message = await asyncio.wait_for(self._answer(id, keep), self._timeout)
        except asyncio.TimeoutError:
            raise no_answer(self._url, self._timeout) from None
        result = result_of(self._url, message, id, self._error_from_wire)
        return decoded(self._url, method, result, decode)

    async def _answer(self, id: int, keep: bool) -> Any:
        while True:
            text = await self._receive()
            try:
                message = json.loads(text)
            except ValueError:
                raise unexpected(self._url, f"not JSON: {snippet(text)}") from None
            if isinstance(message, dict) and message.get("id") == id:
                return message
            if keep and isinstance(message, dict) and "method" in message:
                self._backlog.append(message)

    async def notification(self) -> Any:
        """The next message that is not an answer, as JSON: a kept one first,
        else the next one received (what is not JSON is skipped)."""
        if self._backlog:
            return self._backlog.popleft()
        while True:
            try:
                message = json.loads(await self._receive())
            except ValueError:
                continue
            if not isinstance(message, dict) or "id" not in message:
                return message

    async def _receive(self) -> Union[str, bytes]:
        try:
            return await self.connection.recv()
        except ConnectionClosed as e:
            raise closed(self._url, e) from e

    async def aclose(self) -> None:
        await self.connection.close()
