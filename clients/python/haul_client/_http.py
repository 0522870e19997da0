"""JSON-RPC over HTTP with httpx: one POST per call, connections kept alive
(hand-written runtime). `https://` verifies the daemon with the client's
TLS context when it has one; a `unix:` URL calls over its socket."""

import itertools
import ssl
from typing import Any, Optional, Union

import httpx

from ._endpoint import HTTP_URL, socket_path
from ._errors import ErrorFromWire
from ._jsonrpc import http_result, request, unreachable


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _verify(context: Optional[ssl.SSLContext]) -> Union[ssl.SSLContext, bool]:
    # True: httpx's default (certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR).
    return True if context is None else context


class HttpRpc:
    """Blocking calls over HTTP."""

    def __init__(
        self,
        url: str,
        token: str,
        timeout: float,
        error_from_wire: ErrorFromWire,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self._url = url
        self._error_from_wire = error_from_wire
        self._ids = itertools.count(1)
        path = socket_path(url)
        self._target = url if path is None else HTTP_URL
        if path is None:
            self._http = httpx.Client(
                headers=_headers(token), timeout=timeout, verify=_verify(ssl_context)
            )
        else:
            self._http = httpx.Client(
                headers=_headers(token),
                timeout=timeout,
                transport=httpx.HTTPTransport(uds=path),
            )

    def call(self, method: str, params: Optional[dict[str, Any]]) -> Any:
        id = next(self._ids)
        try:
            response = self._http.post(self._target, json=request(id, method, params))
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
        self,
        url: str,
        token: str,
        timeout: float,
        error_from_wire: ErrorFromWire,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self._url = url
        self._error_from_wire = error_from_wire
        self._ids = itertools.count(1)
        path = socket_path(url)
        self._target = url if path is None else HTTP_URL
        if path is None:
            self._http = httpx.AsyncClient(
                headers=_headers(token), timeout=timeout, verify=_verify(ssl_context)
            )
        else:
            self._http = httpx.AsyncClient(
                headers=_headers(token),
                timeout=timeout,
                transport=httpx.AsyncHTTPTransport(uds=path),
            )

    async def connect(self) -> None:
        """Nothing to do: HTTP connects per call."""

    async def call(self, method: str, params: Optional[dict[str, Any]]) -> Any:
        id = next(self._ids)
        try:
            response = await self._http.post(
                self._target, json=request(id, method, params)
            )
        except httpx.HTTPError as e:
            raise unreachable(self._url, e) from e
        return http_result(
            self._url, response.status_code, response.content, id, self._error_from_wire
        )

    async def aclose(self) -> None:
        await self._http.aclose()
