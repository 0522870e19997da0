//! LISTEN/NOTIFY: what nodes tell each other between reads of the tables.
//!
//! Channels: `haul_events` (events up to this `clusterSeq` are committed),
//! `haul_node_<id>` (another node asked this one to pause or remove a
//! download it owns) and `haul_progress` (batched progress of active
//! downloads). A notification is a hint, never the record: a node that
//! lost its listener catches up from the tables (`events_since`,
//! `desired_of_mine`), so nothing is lost with it.
//!
//! The listener has a connection of its own: notifications arrive on the
//! connection that LISTENs, between the answers to its queries, and a
//! connection busy in a long transaction would hold them back.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::{shown_url, ClusterError, Desired, NodeId};
use crate::engine::Gid;

/// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
pub const NOTIFY_PAYLOAD_LIMIT: usize = 7999;

pub(crate) const EVENTS_CHANNEL: &str = "haul_events";
pub(crate) const PROGRESS_CHANNEL: &str = "haul_progress";

pub(crate) fn node_channel(node: NodeId) -> String {
    format!("haul_node_{}", node.0)
}

/// One active download's progress, as nodes pass it around.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub gid: String,
    pub completed_length: u64,
    pub total_length: Option<u64>,
    pub download_speed: u64,
    pub connections: u32,
}

/// A `haul_progress` payload: one node's batch.
#[derive(Debug, Serialize, Deserialize)]
struct ProgressBatch {
    node: i64,
    progress: Vec<Progress>,
}

/// A `haul_node_<id>` payload.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DesiredPayload {
    pub gid: String,
    pub desired: String,
}

/// A change of what a download was added with, which only the node running
/// it may make (its next write would undo another's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "set")]
pub enum Setting {
    SpeedLimit { limit: u64 },
    Url { url: String, restart: bool },
}

/// A `haul_node_<id>` payload: `from` asks the owner of `gid` to change a
/// setting, and waits for the answer to `ask` on its own channel.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SettingPayload {
    pub ask: u64,
    pub from: i64,
    pub gid: String,
    pub setting: Setting,
}

/// Why the owner did not make a change another node asked of it: the
/// engine's refusals that callers tell apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "error")]
pub enum Refusal {
    /// The node does not run the download (any more).
    NotHere,
    NotFound,
    InvalidState {
        state: String,
    },
    InvalidUrl {
        url: String,
        reason: String,
    },
    RemoteFileDiffers {
        url: String,
        reason: String,
    },
    Failed {
        message: String,
    },
}

/// A `haul_node_<id>` payload: the owner's answer to `answer`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AnswerPayload {
    pub answer: u64,
    pub refusal: Option<Refusal>,
}

/// A notification, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Events up to this `clusterSeq` are committed.
    Events { upto: i64 },
    /// Another node asks this one to pause or remove `gid`.
    Desired { gid: Gid, desired: Desired },
    /// Node `from` asks this one to change a setting of `gid`, which it
    /// runs, and to answer `ask`.
    Setting {
        ask: u64,
        from: NodeId,
        gid: Gid,
        setting: Setting,
    },
    /// The answer to this node's `ask`: done, or why not.
    Answer { ask: u64, refusal: Option<Refusal> },
    /// A batch of `node`'s progress.
    Progress {
        node: NodeId,
        progress: Vec<Progress>,
    },
}

impl Notice {
    /// `None` for what this haul does not know (a newer node's channel).
    fn parse(channel: &str, payload: &str) -> Option<Notice> {
        match channel {
            EVENTS_CHANNEL => payload.parse().ok().map(|upto| Notice::Events { upto }),
            PROGRESS_CHANNEL => {
                let batch: ProgressBatch = serde_json::from_str(payload).ok()?;
                Some(Notice::Progress {
                    node: NodeId(batch.node),
                    progress: batch.progress,
                })
            }
            _ if channel.starts_with("haul_node_") => {
                if let Ok(asked) = serde_json::from_str::<DesiredPayload>(payload) {
                    return Some(Notice::Desired {
                        gid: asked.gid.parse().ok()?,
                        desired: Desired::parse(&asked.desired)?,
                    });
                }
                if let Ok(asked) = serde_json::from_str::<SettingPayload>(payload) {
                    return Some(Notice::Setting {
                        ask: asked.ask,
                        from: NodeId(asked.from),
                        gid: asked.gid.parse().ok()?,
                        setting: asked.setting,
                    });
                }
                let answer: AnswerPayload = serde_json::from_str(payload).ok()?;
                Some(Notice::Answer {
                    ask: answer.answer,
                    refusal: answer.refusal,
                })
            }
            _ => None,
        }
    }
}

/// The progress of `node` as NOTIFY payloads, each a JSON batch under
/// `limit` bytes, every item in exactly one, in their order.
pub fn batch_payloads(
    node: NodeId,
    progress: &[Progress],
    limit: usize,
) -> Result<Vec<String>, ClusterError> {
    let open = format!("{{\"node\":{},\"progress\":[", node.0);
    let close = "]}";
    let mut payloads = Vec::new();
    let mut current = open.clone();
    for item in progress {
        let json = serde_json::to_string(item).map_err(|e| ClusterError::Corrupt {
            gid: item.gid.clone(),
            what: format!("progress: {e}"),
        })?;
        let alone = open.len() + json.len() + close.len();
        if alone > limit {
            return Err(ClusterError::PayloadTooLarge { len: alone, limit });
        }
        let first = current.len() == open.len();
        let grown = current.len() + usize::from(!first) + json.len() + close.len();
        if grown > limit {
            current.push_str(close);
            payloads.push(std::mem::replace(&mut current, open.clone()));
        } else if !first {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > open.len() {
        current.push_str(close);
        payloads.push(current);
    }
    Ok(payloads)
}

/// A LISTEN connection delivering [`Notice`]s into a channel, which ends
/// when the connection does (catch up from the tables, then listen anew).
pub struct Listener {
    // Kept: dropping the client closes the connection.
    _client: Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    /// Listens to the cluster's channels and `node`'s own. Notices queue
    /// up to `capacity`; past that the connection is not read until the
    /// receiver catches up (PostgreSQL keeps them meanwhile).
    pub async fn start(
        url: &str,
        node: NodeId,
        capacity: usize,
    ) -> Result<(Listener, mpsc::Receiver<Notice>), ClusterError> {
        let (client, mut connection) =
            tokio_postgres::connect(url, NoTls)
                .await
                .map_err(|source| ClusterError::Connect {
                    url: shown_url(url),
                    source,
                })?;
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        // The connection is driven here, and only here: poll_message both
        // answers the client's queries and yields the notifications.
        let task = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        let Some(notice) = Notice::parse(n.channel(), n.payload()) else {
                            continue;
                        };
                        if sender.send(notice).await.is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("the cluster listener's connection failed: {e}");
                        break;
                    }
                }
            }
        });
        client
            .batch_execute(&format!(
                "LISTEN {EVENTS_CHANNEL}; LISTEN {PROGRESS_CHANNEL}; LISTEN {}",
                node_channel(node)
            ))
            .await?;
        Ok((
            Listener {
                _client: client,
                task,
            },
            receiver,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_tells_a_pause_a_setting_and_an_answer_apart_on_its_channel() {
        let gid = "00000000000000c1";
        let channel = node_channel(NodeId(7));
        let pause = format!(r#"{{"gid":"{gid}","desired":"pause"}}"#);
        assert!(matches!(
            Notice::parse(&channel, &pause),
            Some(Notice::Desired {
                desired: Desired::Pause,
                ..
            })
        ));
        let setting = serde_json::to_string(&SettingPayload {
            ask: 9,
            from: 3,
            gid: gid.into(),
            setting: Setting::Url {
                url: "http://h/f".into(),
                restart: true,
            },
        })
        .unwrap();
        assert_eq!(
            Notice::parse(&channel, &setting),
            Some(Notice::Setting {
                ask: 9,
                from: NodeId(3),
                gid: gid.parse().unwrap(),
                setting: Setting::Url {
                    url: "http://h/f".into(),
                    restart: true
                },
            })
        );
        let refused = Refusal::InvalidState {
            state: "complete".into(),
        };
        let answer = serde_json::to_string(&AnswerPayload {
            answer: 9,
            refusal: Some(refused.clone()),
        })
        .unwrap();
        assert_eq!(
            Notice::parse(&channel, &answer),
            Some(Notice::Answer {
                ask: 9,
                refusal: Some(refused)
            })
        );
        assert_eq!(Notice::parse(&channel, r#"{"what":"else"}"#), None);
    }

    fn progress(i: u64) -> Progress {
        Progress {
            gid: format!("{i:016x}"),
            completed_length: i * 1_000_003,
            total_length: Some(1 << 40),
            download_speed: 12_345_678,
            connections: 16,
        }
    }

    #[test]
    fn progress_batches_stay_under_the_limit_and_keep_every_item_once_in_order() {
        let items: Vec<Progress> = (0..1000).map(progress).collect();
        let payloads = batch_payloads(NodeId(42), &items, NOTIFY_PAYLOAD_LIMIT).unwrap();
        assert!(payloads.len() > 1, "a thousand items need several batches");
        let mut seen = Vec::new();
        for payload in &payloads {
            assert!(payload.len() <= NOTIFY_PAYLOAD_LIMIT, "{}", payload.len());
            let Some(Notice::Progress { node, progress }) =
                Notice::parse(PROGRESS_CHANNEL, payload)
            else {
                panic!("unreadable batch: {payload}");
            };
            assert_eq!(node, NodeId(42));
            seen.extend(progress);
        }
        assert_eq!(seen, items);
        // Batches are full: each but the last had no room for another item
        // (every item here is under 200 bytes).
        for payload in &payloads[..payloads.len() - 1] {
            assert!(
                payload.len() > NOTIFY_PAYLOAD_LIMIT - 200,
                "{}",
                payload.len()
            );
        }
    }

    #[test]
    fn an_item_larger_than_the_limit_is_refused_with_its_size() {
        let mut item = progress(1);
        item.gid = "x".repeat(100);
        match batch_payloads(NodeId(1), &[item], 64) {
            Err(ClusterError::PayloadTooLarge { len, limit: 64 }) => assert!(len > 100),
            other => panic!("{other:?}"),
        }
        assert!(batch_payloads(NodeId(1), &[], 64).unwrap().is_empty());
    }
}
