"""JSON-RPC over WebSocket with `websockets`: calls on one connection, and
the stream of the daemon's notifications on a connection of its own
(hand-written runtime)."""

import asyncio
import itertools
import json
from typing import Any, Callable, Generic, Mapping, Optional, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from ._errors import ErrorFromWire, TransportError
from ._jsonrpc import (
    MAX_MESSAGE_SIZE,
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
    url: str, token: str, timeout: float, error_from_wire: ErrorFromWire
) -> ClientConnection:
    """A WebSocket authenticated with the bearer header at the upgrade (never
    the token in the URL). A refusal with a JSON-RPC error body (401) is the
    `HaulError` it carries."""
    try:
        return await connect(
            url,
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=timeout,
            max_size=MAX_MESSAGE_SIZE,
        )
    except InvalidStatus as e:
        response = e.response
        raise refusal(url, response.status_code, response.body, error_from_wire) from e
    except (OSError, asyncio.TimeoutError, WebSocketException) as e:
        raise unreachable(url, e) from e


def closed(url: str, error: Optional[BaseException]) -> TransportError:
    why = f": {reason(error)}" if error is not None else ""
    return TransportError(
        f"the connection to the haul daemon at {url} closed{why}", url
    )


class WebSocketRpc:
    """asyncio calls over one WebSocket, opened on first use (or by
    `connect`) and opened again after it closes. Answers are matched to
    calls by id, so calls may run concurrently. The daemon pushes its
    notifications to every WebSocket, this one included; they are dropped
    here (`Events` is the way to read them)."""

    def __init__(
        self, url: str, token: str, timeout: float, error_from_wire: ErrorFromWire
    ) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout
        self._error_from_wire = error_from_wire
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
                    self._url, self._token, self._timeout, self._error_from_wire
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
            raise TransportError(
                f"no answer from the haul daemon at {self._url} within {self._timeout:g} s",
                self._url,
            ) from None
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


class Events(Generic[T]):
    """The daemon's notifications, typed, in the order it sent them, over a
    WebSocket of their own.

    Iterate it with `async for`; it connects on the first iteration. To be
    sure to see everything caused by what you do next, connect first::

        async with client.events() as events:
            added = await client.download_add(url=url)
            async for event in events:
                ...

    Notifications this client does not know (a newer daemon's) are skipped.
    A known one that does not decode raises `TransportError` and the
    stream stays usable. Iteration ends after `aclose`; when the daemon
    closes the connection, `TransportError` is raised. Read a stream
    from one task at a time.
    """

    def __init__(
        self,
        url: str,
        token: str,
        timeout: float,
        decoders: Mapping[str, Callable[[Any], T]],
        error_from_wire: ErrorFromWire,
    ) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout
        self._decoders = decoders
        self._error_from_wire = error_from_wire
        self._connection: Optional[ClientConnection] = None
        self._closed = False

    @property
    def url(self) -> str:
        """The WebSocket URL the stream reads from."""
        return self._url

    async def connect(self) -> "Events[T]":
        """Opens the WebSocket now, if it is not open yet."""
        await self._open()
        return self

    async def aclose(self) -> None:
        """Closes the WebSocket; iteration ends."""
        self._closed = True
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def __aenter__(self) -> "Events[T]":
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> "Events[T]":
        return self

    async def __anext__(self) -> T:
        while True:
            event = self._decode(await self._receive())
            if event is not None:
                return event

    async def _open(self) -> ClientConnection:
        # A later version resubscribes here after a reconnect (from the last
        # `seq` seen), so that `_receive` can retry with backoff.
        if self._connection is None:
            self._connection = await open_websocket(
                self._url, self._token, self._timeout, self._error_from_wire
            )
        return self._connection

    async def _receive(self) -> Any:
        """The next message, as JSON."""
        if self._closed:
            raise StopAsyncIteration
        connection = await self._open()
        try:
            text = await connection.recv()
        except ConnectionClosed as e:
            if self._closed:
                raise StopAsyncIteration from None
            self._connection = None
            raise closed(self._url, e) from e
        try:
            return json.loads(text)
        except ValueError:
            raise unexpected(self._url, f"not JSON: {snippet(text)}") from None

    def _decode(self, message: Any) -> Optional[T]:
        """The typed event, or None for a message that is not a notification
        this client knows."""
        if not isinstance(message, dict) or "id" in message:
            return None
        method = message.get("method")
        decode = self._decoders.get(method) if isinstance(method, str) else None
        if decode is None:
            return None
        try:
            return decode(message.get("params"))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            what = f"missing {e}" if isinstance(e, KeyError) else reason(e)
            raise unexpected(
                self._url, f"malformed `{method}` notification: {what}"
            ) from e
