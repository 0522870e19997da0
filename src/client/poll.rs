//! The event stream's fallback when no WebSocket can be opened: poll
//! `download.list` and synthesise the notifications its changes imply, so a
//! caller handles one kind of stream either way.
//!
//! Synthesised notifications carry `streamId` [`POLLING_STREAM`] and a local
//! `seq`. What polling cannot see it cannot report: a download that starts
//! and finishes between two polls shows up as `download.complete` alone.

use std::collections::HashMap;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use serde_json::json;
use url::Url;

use super::events::{Event, Resync, ResyncReason, Task};
use super::{ClientError, RawParams, MAX_MESSAGE_SIZE, REQUEST_TIMEOUT};
use crate::api::{
    method, DownloadCompleteEvent, DownloadErrorEvent, DownloadList, DownloadPausedEvent,
    DownloadProgressEvent, DownloadRemovedEvent, DownloadStartedEvent, DownloadState,
    DownloadStatus, ErrorCode, Gid, Notification,
};

/// The `streamId` of synthesised notifications.
pub const POLLING_STREAM: &str = "0000000000000000";

pub(super) async fn run(task: &Task) {
    let Some(interval) = task.options.polling else {
        return;
    };
    let url = http_url_for(&task.url);
    let client = match HttpClientBuilder::default()
        .set_headers(task.headers.clone())
        .request_timeout(REQUEST_TIMEOUT)
        .max_response_size(MAX_MESSAGE_SIZE)
        .build(url.as_str())
    {
        Ok(client) => client,
        Err(e) => {
            let e = ClientError::from_jsonrpsee(&url, e);
            task.tell_first(Err(&e));
            let _ = task.out.send(Err(e)).await;
            return;
        }
    };
    let mut previous: Option<HashMap<String, DownloadStatus>> = None;
    let mut seq = 0;
    loop {
        let listed = list_all(&client, &url, task.options.gids.as_deref()).await;
        match listed {
            Ok(downloads) => {
                let events = match &previous {
                    None => vec![Event::Resync(Resync {
                        reason: ResyncReason::Polling,
                        downloads: downloads.clone(),
                    })],
                    Some(before) => changes(before, &downloads, &mut seq)
                        .into_iter()
                        .filter(|n| {
                            task.options
                                .kinds
                                .as_ref()
                                .is_none_or(|k| k.iter().any(|k| k.as_str() == n.method()))
                        })
                        .map(Event::Notification)
                        .collect(),
                };
                task.tell_first(Ok(()));
                for event in events {
                    if task.out.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
                previous = Some(downloads.into_iter().map(|d| (d.gid.clone(), d)).collect());
            }
            Err(e) if e.code() == Some(ErrorCode::Unauthorized) => {
                task.tell_first(Err(&e));
                let _ = task.out.send(Err(e)).await;
                return;
            }
            // The daemon is away: poll again later (`ready` hears of the first failure).
            Err(e) => task.tell_first(Err(&e)),
        }
        tokio::time::sleep(interval).await;
    }
}

/// Every download the daemon keeps, gathered from `download.list` page by
/// page: ask with [`Pages::params`] until [`Pages::add`] says it has all.
#[derive(Default)]
pub(super) struct Pages {
    all: Vec<DownloadStatus>,
}

impl Pages {
    /// The params of the next `download.list` call.
    pub(super) fn params(&self) -> serde_json::Value {
        json!({"offset": self.all.len(), "limit": 1000})
    }

    /// Takes one page; whether that was the last.
    pub(super) fn add(&mut self, page: DownloadList) -> bool {
        let done = page.downloads.is_empty()
            || self.all.len() + page.downloads.len() >= page.total as usize;
        self.all.extend(page.downloads);
        done
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
    client: &jsonrpsee::http_client::HttpClient,
    url: &Url,
    gids: Option<&[Gid]>,
) -> Result<Vec<DownloadStatus>, ClientError> {
    let mut pages = Pages::default();
    loop {
        let params = serde_json::value::to_raw_value(&pages.params())
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let page = client
            .request(method::DOWNLOAD_LIST, RawParams(Some(params)))
            .await
            .map_err(|e| ClientError::from_jsonrpsee(url, e))?;
        if pages.add(page) {
            return Ok(pages.finish(gids));
        }
    }
}

/// The notifications that take `before` to `now`, in list order, removals last.
fn changes(
    before: &HashMap<String, DownloadStatus>,
    now: &[DownloadStatus],
    seq: &mut u64,
) -> Vec<Notification> {
    let mut stamp = || {
        *seq += 1;
        (*seq, POLLING_STREAM.to_owned())
    };
    let mut out = Vec::new();
    for d in now {
        let old = before.get(&d.gid);
        let moved = old.is_none_or(|o| o.state != d.state);
        match d.state {
            DownloadState::Active if moved => {
                let (seq, stream_id) = stamp();
                out.push(Notification::DownloadStarted(DownloadStartedEvent {
                    seq,
                    stream_id,
                    gid: d.gid.clone(),
                    file_name: d.file_name.clone().unwrap_or_default(),
                    total_length: d.total_length,
                    restarted: None,
                    resumed: old.is_some() || d.completed_length > 0,
                }));
            }
            DownloadState::Active
                if old.is_some_and(|o| o.completed_length != d.completed_length) =>
            {
                let (seq, stream_id) = stamp();
                out.push(Notification::DownloadProgress(DownloadProgressEvent {
                    seq,
                    stream_id,
                    gid: d.gid.clone(),
                    completed_length: d.completed_length,
                    total_length: d.total_length,
                    download_speed: d.download_speed,
                    eta: d.eta,
                    connections: d.connections,
                }));
            }
            DownloadState::Paused if moved => {
                let (seq, stream_id) = stamp();
                out.push(Notification::DownloadPaused(DownloadPausedEvent {
                    seq,
                    stream_id,
                    gid: d.gid.clone(),
                    completed_length: d.completed_length,
                }));
            }
            DownloadState::Complete if moved => {
                let (seq, stream_id) = stamp();
                out.push(Notification::DownloadComplete(DownloadCompleteEvent {
                    seq,
                    stream_id,
                    gid: d.gid.clone(),
                    path: d.path.clone().unwrap_or_default(),
                    total_length: d.total_length.unwrap_or(d.completed_length),
                }));
            }
            DownloadState::Error if moved => {
                let Some(failure) = &d.error else { continue };
                let (seq, stream_id) = stamp();
                out.push(Notification::DownloadError(DownloadErrorEvent {
                    seq,
                    stream_id,
                    gid: d.gid.clone(),
                    code: failure.code,
                    message: failure.message.clone(),
                    completed_length: d.completed_length,
                }));
            }
            _ => {}
        }
    }
    let mut gone: Vec<&String> = before
        .keys()
        .filter(|g| !now.iter().any(|d| &d.gid == *g))
        .collect();
    gone.sort();
    for gid in gone {
        let (seq, stream_id) = stamp();
        out.push(Notification::DownloadRemoved(DownloadRemovedEvent {
            seq,
            stream_id,
            gid: gid.clone(),
        }));
    }
    out
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

    fn status(gid: &str, state: DownloadState, done: u64) -> DownloadStatus {
        serde_json::from_value(json!({
            "gid": gid, "url": "http://h/f", "state": state, "fileName": "f", "path": "/d/f",
            "totalLength": 100, "completedLength": done, "downloadSpeed": 0, "eta": null,
            "connections": 1, "speedLimit": 0, "error": null,
            "createdAt": "2026-01-01T00:00:00Z", "completedAt": null
        }))
        .unwrap()
    }

    #[test]
    fn state_changes_between_polls_become_the_notifications_they_imply() {
        let before: HashMap<String, DownloadStatus> = [
            status("a", DownloadState::Queued, 0),
            status("b", DownloadState::Active, 10),
            status("c", DownloadState::Active, 10),
            status("d", DownloadState::Paused, 5),
        ]
        .into_iter()
        .map(|d| (d.gid.clone(), d))
        .collect();
        let now = [
            status("a", DownloadState::Active, 0),
            status("b", DownloadState::Active, 50),
            status("c", DownloadState::Complete, 100),
        ];
        let mut seq = 0;
        let events: Vec<(u64, &str, String)> = changes(&before, &now, &mut seq)
            .iter()
            .map(|n| {
                let v = serde_json::to_value(n).unwrap();
                (
                    v["params"]["seq"].as_u64().unwrap(),
                    n.method(),
                    v["params"]["gid"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            events,
            [
                (1, "download.started", "a".into()),
                (2, "download.progress", "b".into()),
                (3, "download.complete", "c".into()),
                (4, "download.removed", "d".into()),
            ]
        );
    }

    #[test]
    fn the_http_endpoint_is_derived_from_the_websocket_one() {
        let url = http_url_for(&Url::parse("wss://h:1/jsonrpc/ws").unwrap());
        assert_eq!(url.as_str(), "https://h:1/jsonrpc");
    }
}
