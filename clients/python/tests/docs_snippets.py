# generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
"""The API page's snippets (docs/site/index.html), one function per method, and `ALL` of them
in document order, which the tests build and call."""

from typing import Callable

from haul_client import Client


def download_add(haul: Client) -> object:
    result = haul.download_add(url="https://example.com/files/ubuntu.iso", connections=4)
    return result


def download_pause(haul: Client) -> object:
    result = haul.download_pause(gid="2f1c0d9a7b3e4a51")
    return result


def download_resume(haul: Client) -> object:
    result = haul.download_resume(gid="2f1c0d9a7b3e4a51")
    return result


def download_remove(haul: Client) -> object:
    result = haul.download_remove(gid="2f1c0d9a7b3e4a51", delete_files=True)
    return result


def download_status(haul: Client) -> object:
    result = haul.download_status(gid="2f1c0d9a7b3e4a51")
    return result


def download_list(haul: Client) -> object:
    from haul_client import DownloadState
    result = haul.download_list(states=[DownloadState.ACTIVE, DownloadState.QUEUED], limit=10)
    return result


def download_set_speed_limit(haul: Client) -> object:
    result = haul.download_set_speed_limit(gid="2f1c0d9a7b3e4a51", speed_limit=1048576)
    return result


def download_set_url(haul: Client) -> object:
    result = haul.download_set_url(gid="2f1c0d9a7b3e4a51", url="https://mirror.example.org/ubuntu.iso")
    return result


def system_get_version(haul: Client) -> object:
    result = haul.system_get_version()
    return result


def system_get_stats(haul: Client) -> object:
    result = haul.system_get_stats()
    return result


def system_get_options(haul: Client) -> object:
    result = haul.system_get_options()
    return result


def system_set_options(haul: Client) -> object:
    result = haul.system_set_options(speed_limit=10485760)
    return result


def events_subscribe(haul: Client) -> object:
    result = haul.events_subscribe(since=41, stream_id="c0ffee0ddba11e57")
    return result


def events_unsubscribe(haul: Client) -> object:
    result = haul.events_unsubscribe()
    return result


def events_poll(haul: Client) -> object:
    result = haul.events_poll(since=41, stream_id="c0ffee0ddba11e57")
    return result


def token_add(haul: Client) -> object:
    from haul_client import TokenScope
    result = haul.token_add(name="dashboard", scope=TokenScope.READ)
    return result


def token_list(haul: Client) -> object:
    result = haul.token_list()
    return result


def token_remove(haul: Client) -> object:
    result = haul.token_remove(name="dashboard")
    return result


def rpc_discover(haul: Client) -> object:
    result = haul.rpc_discover()
    return result


ALL: list[tuple[str, Callable[[Client], object]]] = [
    ("download.add", download_add),
    ("download.pause", download_pause),
    ("download.resume", download_resume),
    ("download.remove", download_remove),
    ("download.status", download_status),
    ("download.list", download_list),
    ("download.setSpeedLimit", download_set_speed_limit),
    ("download.setUrl", download_set_url),
    ("system.getVersion", system_get_version),
    ("system.getStats", system_get_stats),
    ("system.getOptions", system_get_options),
    ("system.setOptions", system_set_options),
    ("events.subscribe", events_subscribe),
    ("events.unsubscribe", events_unsubscribe),
    ("events.poll", events_poll),
    ("token.add", token_add),
    ("token.list", token_list),
    ("token.remove", token_remove),
    ("rpc.discover", rpc_discover),
]
"""Every snippet, in document order, with the method it calls."""
