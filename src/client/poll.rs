//! The event stream's fallback when no WebSocket can be opened: poll
//! `events.poll` over HTTP. The daemon answers from the same window a
//! WebSocket replays from, so the stream delivers the very notifications a
//! WebSocket would (real `streamId`, real `seq`, every state change), and a
//! gap (the daemon restarted, or the client was away longer than the
//! window) is a [`Resync`] exactly as on a WebSocket.

use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClient;
use serde_json::json;
use url::Url;

use super::events::{Event, Resync, ResyncReason, Task};
use super::{ClientError, RawParams};
use crate::api::{
    method, DownloadList, DownloadStatus, ErrorCode, EventPoll, EventsUnavailableErrorData, Gid,
};

/// Notifications asked for per poll; a full answer is followed at once by
/// the next poll instead of waiting for the interval.
const POLL_LIMIT: usize = 1000;

pub(super) async fn run(task: &Task) {
    let Some(interval) = task.options.polling else {
        return;
    };
    let url = http_url_for(&task.url);
    let client = match task.link.http(url.as_str()) {
        Ok(client) => client,
        Err(e) => {
            let e = ClientError::from_jsonrpsee(&url, e);
            task.tell_first(Err(&e));
            let _ = task.out.send(Err(e)).await;
            return;
        }
    };
    // The stream and the `since` of the next poll; `None` to resynchronise.
    let mut position: Option<(String, u64)> = None;
    let mut resync = ResyncReason::Polling;
    loop {
        let polled = match &position {
            None => start(&client, &url, task, resync).await.map(|p| {
                position = Some(p);
                Duration::ZERO
            }),
            Some((stream_id, since)) => {
                let params = json!({
                    "since": since,
                    "streamId": stream_id,
                    "limit": POLL_LIMIT,
                    "gids": task.options.gids,
                    "kinds": task.options.kinds,
                });
                match call::<EventPoll>(&client, &url, method::EVENTS_POLL, params).await {
                    Ok(poll) => {
                        let full = poll.notifications.len() >= POLL_LIMIT;
                        position = Some((poll.stream_id, poll.next));
                        for notification in poll.notifications {
                            if task
                                .out
                                .send(Ok(Event::Notification(notification)))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Ok(if full { Duration::ZERO } else { interval })
                    }
                    Err(e) => Err(e),
                }
            }
        };
        let wait = match polled {
            Ok(wait) => wait,
            Err(e) if e.code() == Some(ErrorCode::EventsUnavailable) => {
                let data: Option<EventsUnavailableErrorData> = e.data();
                let restarted = match (&data, &position) {
                    (Some(data), Some((stream_id, _))) => data.stream_id != *stream_id,
                    _ => true,
                };
                resync = if restarted {
                    ResyncReason::Restarted
                } else {
                    ResyncReason::WindowExceeded
                };
                position = None;
                continue;
            }
            Err(e) if e.code() == Some(ErrorCode::Unauthorized) => {
                task.tell_first(Err(&e));
                let _ = task.out.send(Err(e)).await;
                return;
            }
            // The daemon is away: poll again later (`ready` hears of the first failure).
            Err(e) => {
                task.tell_first(Err(&e));
                interval
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Where the stream stands, then every download as a [`Resync`]: polling
/// goes on from that point, so nothing between the two is missed.
async fn start(
    client: &HttpClient,
    url: &Url,
    task: &Task,
    reason: ResyncReason,
) -> Result<(String, u64), ClientError> {
    let poll: EventPoll = call(client, url, method::EVENTS_POLL, json!({})).await?;
    let downloads = list_all(client, url, task.options.gids.as_deref()).await?;
    task.tell_first(Ok(()));
    let _ = task
        .out
        .send(Ok(Event::Resync(Resync { reason, downloads })))
        .await;
    Ok((poll.stream_id, poll.next))
}

async fn call<T: serde::de::DeserializeOwned>(
    client: &HttpClient,
    url: &Url,
    method: &str,
    params: serde_json::Value,
) -> Result<T, ClientError> {
    let params = serde_json::value::to_raw_value(&strip_nulls(params))
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    client
        .request(method, RawParams(Some(params)))
        .await
        .map_err(|e| ClientError::from_jsonrpsee(url, e))
}

/// Optional params left out rather than sent as null.
fn strip_nulls(mut params: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = params.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    params
}

/// Every download the daemon keeps, gathered from `download.list` page by
/// page: ask with [`Pages::params`] until [`Pages::add`] says it has all.
/// Pages follow the list's cursor, so downloads added or removed between two
/// pages never make one skip or repeat another.
#[derive(Default)]
pub(super) struct Pages {
    all: Vec<DownloadStatus>,
    cursor: Option<String>,
}

impl Pages {
    /// The params of the next `download.list` call.
    pub(super) fn params(&self) -> serde_json::Value {
        match &self.cursor {
            Some(cursor) => json!({"limit": 1000, "cursor": cursor}),
            None => json!({"limit": 1000}),
        }
    }

    /// Takes one page; whether that was the last.
    pub(super) fn add(&mut self, page: DownloadList) -> bool {
        self.all.extend(page.downloads);
        self.cursor = page.cursor;
        self.cursor.is_none()
    }

    /// The downloads, only those of `gids` when given.
    pub(super) fn finish(mut self, gids: Option<&[Gid]>) -> Vec<DownloadStatus> {
        if let Some(gids) = gids {
            self.all.retain(|d| gids.contains(&d.gid));
        }
        self.all
    }
}

async fn list_all(
    client: &HttpClient,
    url: &Url,
    gids: Option<&[Gid]>,
) -> Result<Vec<DownloadStatus>, ClientError> {
    let mut pages = Pages::default();
    loop {
        let page = call(client, url, method::DOWNLOAD_LIST, pages.params()).await?;
        if pages.add(page) {
            return Ok(pages.finish(gids));
        }
    }
}

/// The HTTP endpoint behind a WebSocket URL (`ws://h/jsonrpc/ws` → `http://h/jsonrpc`).
fn http_url_for(ws: &Url) -> Url {
    let mut url = ws.clone();
    let scheme = if ws.scheme() == "wss" {
        "https"
    } else {
        "http"
    };
    let _ = url.set_scheme(scheme);
    let path = ws
        .path()
        .trim_end_matches('/')
        .trim_end_matches("/ws")
        .to_owned();
    url.set_path(&path);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_endpoint_is_derived_from_the_websocket_one() {
        let url = http_url_for(&Url::parse("wss://h:1/jsonrpc/ws").unwrap());
        assert_eq!(url.as_str(), "https://h:1/jsonrpc");
    }
}
