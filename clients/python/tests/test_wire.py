"""The generated conversions, checked against the document itself: names,
examples, absent versus null, and what a newer daemon may send."""

import re
from typing import Any

from support import document

import haul_client
from haul_client import (
    AsyncClient,
    Client,
    DownloadAddParams,
    DownloadListParams,
    DownloadState,
    DownloadStatus,
    ErrorCode,
    Failure,
    FailureCode,
    OverwritePolicy,
)
from haul_client.events import NOTIFICATIONS

STATUS: dict[str, Any] = {
    "gid": "2f1c0d9a7b3e4a51",
    "url": "https://example.com/files/ubuntu.iso",
    "state": "error",
    "fileName": "ubuntu.iso",
    "path": "/home/ada/Downloads/ubuntu.iso",
    "totalLength": None,
    "completedLength": 1048576000,
    "downloadSpeed": 0,
    "eta": None,
    "connections": 0,
    "sources": [
        {
            "url": "https://example.com/files/ubuntu.iso",
            "state": "waiting",
            "downloadSpeed": 0,
            "connections": 0,
            "reason": None,
        }
    ],
    "speedLimit": 0,
    "proxy": "socks5h://proxy.example:1080",
    "insecure": False,
    "error": {"code": "http-status", "message": "HTTP 404 from https://example.com/"},
    "createdAt": "2026-11-22T09:15:02Z",
    "completedAt": None,
    "node": None,
}


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace(".", "_").lower()


def test_every_method_of_the_document_is_a_snake_case_method_of_both_clients() -> None:
    names = [m["name"] for m in document()["methods"] if not m.get("x-notification")]
    assert {"download_add", "system_get_version", "rpc_discover"} <= {
        snake(n) for n in names
    }
    for name in names:
        assert callable(getattr(Client, snake(name))), name
        assert callable(getattr(AsyncClient, snake(name))), name


def test_every_notification_of_the_document_has_a_typed_event() -> None:
    names = [m["name"] for m in document()["methods"] if m.get("x-notification")]
    assert sorted(NOTIFICATIONS) == sorted(names)
    for name in names:
        assert NOTIFICATIONS[name].__self__.METHOD == name  # type: ignore[attr-defined]


def test_every_error_of_the_document_is_an_error_code() -> None:
    errors = document()["components"]["errors"]
    assert {e.name: e.value for e in ErrorCode} == {
        re.sub(r"(?<=[a-z])([A-Z])", r"_\1", name).upper(): error["code"]
        for name, error in errors.items()
    }


def test_every_example_result_round_trips_through_its_dataclass() -> None:
    checked = 0
    for method in document()["methods"]:
        ref = method.get("result", {}).get("schema", {}).get("$ref", "")
        cls = getattr(haul_client, ref.rsplit("/", 1)[-1], None)
        if cls is None or not hasattr(cls, "from_wire"):
            continue
        for example in method["examples"]:
            wire = example["result"]["value"]
            assert cls.from_wire(wire).to_wire() == wire, method["name"]
            checked += 1
    assert checked > 5


def test_every_example_notification_and_error_data_round_trips_through_its_dataclass() -> (
    None
):
    doc = document()
    for method in doc["methods"]:
        if method.get("x-notification"):
            for example in method["examples"]:
                wire = {p["name"]: p["value"] for p in example["params"]}
                assert NOTIFICATIONS[method["name"]](wire).to_wire() == wire
    for name, error in doc["components"]["errors"].items():
        cls = getattr(haul_client, f"{name}ErrorData", None)
        if cls is not None:
            assert cls.from_wire(error["data"]).to_wire() == error["data"], name


def test_wire_keys_are_camel_case_and_attributes_snake_case() -> None:
    status = DownloadStatus.from_wire(STATUS)
    assert (status.file_name, status.completed_length, status.total_length) == (
        "ubuntu.iso",
        1048576000,
        None,
    )
    assert status.state is DownloadState.ERROR
    assert status.error == Failure(
        code=FailureCode.HTTP_STATUS, message=STATUS["error"]["message"]
    )
    assert status.to_wire() == STATUS


def test_an_unknown_enum_value_from_a_newer_daemon_is_kept_as_a_plain_string() -> None:
    status = DownloadStatus.from_wire({**STATUS, "state": "verifying", "error": None})
    assert status.state == "verifying" and not isinstance(status.state, DownloadState)
    assert status.to_wire()["state"] == "verifying"


def test_fields_a_newer_daemon_adds_are_ignored() -> None:
    status = DownloadStatus.from_wire({**STATUS, "priority": 3, "mirrors": ["x"]})
    assert status == DownloadStatus.from_wire(STATUS)


def test_absent_optional_params_are_left_out_of_the_wire_form_not_sent_as_null() -> (
    None
):
    assert DownloadAddParams(url="https://example.com/f").to_wire() == {
        "url": "https://example.com/f"
    }
    assert DownloadListParams().to_wire() == {}
    full = DownloadAddParams(
        url="https://example.com/f",
        file_name="f.iso",
        speed_limit=0,
        paused=False,
        overwrite=OverwritePolicy.FAIL,
        headers={"X-A": "1"},
    )
    assert full.to_wire() == {
        "url": "https://example.com/f",
        "fileName": "f.iso",
        "headers": {"X-A": "1"},
        "speedLimit": 0,
        "paused": False,
        "overwrite": "fail",
    }
    listed = DownloadListParams(
        states=[DownloadState.ACTIVE, DownloadState.PAUSED], offset=0
    )
    assert listed.to_wire() == {"states": ["active", "paused"], "offset": 0}
