"""The API page's Python snippets (`docs_snippets`, generated from the same
text as the page) against a real daemon: each is a call the daemon accepts,
answered with a result or an application error (the examples' gid is not
there), never a protocol error. Downloads go through a proxy that is not
there, so the examples' URLs are never fetched."""

import pytest
from docs_snippets import ALL
from support import document

from haul_client import Client, HaulError

# Parse error, invalid request, unknown method, invalid params.
PROTOCOL_ERRORS = (-32700, -32600, -32601, -32602)


@pytest.mark.parametrize("daemon", [("--all-proxy", "http://127.0.0.1:9")], indirect=True)
def test_every_python_snippet_is_a_call_the_daemon_accepts(client: Client) -> None:
    methods = [m["name"] for m in document()["methods"] if not m.get("x-notification")]
    assert [method for method, _ in ALL] == methods, "a snippet per method"
    for method, snippet in ALL:
        try:
            snippet(client)
        except HaulError as e:
            assert int(e.code) not in PROTOCOL_ERRORS, f"{method}: {e.code} {e}"
