//! Live progress from the daemon's notifications, drawn on the board:
//! `haul watch` shows every download, `haul add --wait` the ones it added.

use anyhow::{bail, Result};
use clap::Args;
use futures::StreamExt;

use haul::api::{DownloadListParams, DownloadState};
use haul::Events;

use super::board::{Board, Lines};
use super::remote::RemoteArgs;

#[derive(Debug, Args)]
pub struct WatchArgs {}

pub async fn watch(remote: &RemoteArgs, _args: WatchArgs) -> Result<()> {
    let client = remote.connect().await?;
    let mut events = client.events();
    events.ready().await.map_err(|e| remote.explain(e))?;
    let mut board = Board::open(Lines::ByGid);
    let params = DownloadListParams {
        states: Some(vec![DownloadState::Active]),
        ..Default::default()
    };
    for status in client
        .download_list(&params)
        .await
        .map_err(|e| remote.explain(e))?
        .downloads
    {
        board.show(&status);
    }
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => board.event(&event),
                Some(Err(e)) => return Err(remote.explain(e)),
                None => bail!("the daemon closed the connection"),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// Waits until every added download (gid and URL) is complete or failed,
/// showing progress; fails naming the downloads that failed.
pub async fn wait_for(
    remote: &RemoteArgs,
    mut events: Events,
    added: &[(String, String)],
) -> Result<()> {
    let mut board = Board::fixed(Lines::ByGid);
    for (gid, url) in added {
        board.track(gid, url);
    }
    while !board.all_finished() {
        match events.next().await {
            Some(Ok(event)) => board.event(&event),
            Some(Err(e)) => return Err(remote.explain(e)),
            None => bail!("the daemon closed the connection before the downloads finished"),
        }
    }
    let failed = board.failures();
    if failed.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} of {} downloads failed:\n{}",
            failed.len(),
            added.len(),
            failed.join("\n")
        )
    }
}
