"""JSON-RPC over HTTP with httpx: one POST per call, connections kept alive
(hand-written runtime)."""

import itertools
from typing import Any, Optional

import httpx

from ._errors import ErrorFromWire
from ._jsonrpc import http_result, request, unreachable


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class HttpRpc:
    """Blocking calls over HTTP."""

    def __init__(
        self, url: str, token: str, timeout: float, error_from_wire: ErrorFromWire
    ) -> None:
        self._url = url
        self._error_from_wire = error_from_wire
        self._ids = itertools.count(1)
        self._http = httpx.Client(headers=_headers(token), timeout=timeout)

    def call(self, method: str, params: Optional[dict[str, Any]]) -> Any:
        id = next(self._ids)
        try:
            response = self._http.post(self._url, json=request(id, method, params))
        except httpx.HTTPError as e:
            raise unreachable(self._url, e) from e
        return http_result(
            self._url, response.status_code, response.content, id, self._error_from_wire
        )

    def close(self) -> None:
        self._http.close()


class AsyncHttpRpc:
    """asyncio calls over HTTP."""

    def __init__(
        self, url: str, token: str, timeout: float, error_from_wire: ErrorFromWire
    ) -> None:
        self._url = url
        self._error_from_wire = error_from_wire
        self._ids = itertools.count(1)
        self._http = httpx.AsyncClient(headers=_headers(token), timeout=timeout)

    async def connect(self) -> None:
        """Nothing to do: HTTP connects per call."""

    async def call(self, method: str, params: Optional[dict[str, Any]]) -> Any:
        id = next(self._ids)
        try:
            response = await self._http.post(
                self._url, json=request(id, method, params)
            )
        except httpx.HTTPError as e:
            raise unreachable(self._url, e) from e
        return http_result(
            self._url, response.status_code, response.content, id, self._error_from_wire
        )

    async def aclose(self) -> None:
        await self._http.aclose()
