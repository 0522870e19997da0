//! `haul import-aria2`: moves an aria2 queue to the daemon. It reads an
//! aria2 session (`--save-session`) or input file (`--input-file`) and adds
//! each download with its options mapped as the aria2-compatible port maps
//! them (`haul::aria2::options`), so both roads into haul agree.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use haul::api::{DownloadAddParams, OverwritePolicy};
use haul::aria2::session;
use haul::engine::{AddRequest, Overwrite};

use super::paths;
use super::remote::RemoteArgs;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The aria2 session or input file.
    file: PathBuf,
    /// The daemon's download root, which aria2's absolute `dir`s must be inside
    /// (the daemon's --dir). [default: the XDG download directory]
    #[arg(long, env = "HAUL_DIR")]
    dir: Option<PathBuf>,
}

pub async fn import(remote: &RemoteArgs, args: ImportArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read the aria2 session {}", args.file.display()))?;
    let entries = session::parse(&text)
        .with_context(|| format!("cannot read the aria2 session {}", args.file.display()))?;
    let root = match args.dir {
        Some(dir) => dir,
        None => paths::default_download_dir()?,
    };
    // aria2 writes absolute paths; they are compared with the root as the
    // daemon sees it.
    let root = root.canonicalize().unwrap_or(root);
    let client = remote.connect().await?;
    let mut failed = 0;
    for (done, entry) in entries.iter().enumerate() {
        let progress = format!("[{}/{}]", done + 1, entries.len());
        let uri = entry.uris.first().map(String::as_str).unwrap_or_default();
        let added = match entry.request(&root) {
            Err(e) => Err(anyhow::Error::new(e)),
            Ok(request) => client
                .download_add(&add_params(request))
                .await
                .map_err(|e| remote.explain(e)),
        };
        match added {
            Ok(added) => println!("{progress} {} {uri}", added.gid),
            Err(e) => {
                failed += 1;
                eprintln!("{progress} cannot add line {} ({uri}): {e:#}", entry.line);
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} downloads were not added", entries.len());
    }
    Ok(())
}

/// An engine add request as the API's params.
fn add_params(request: AddRequest) -> DownloadAddParams {
    DownloadAddParams {
        file_name: request.file_name,
        dir: request.dir,
        connections: request.connections.map(u32::from),
        headers: (!request.headers.is_empty()).then(|| request.headers.into_iter().collect()),
        checksum: request.checksum.map(String::from),
        speed_limit: request.speed_limit,
        paused: request.paused.then_some(true),
        overwrite: Some(match request.overwrite {
            Overwrite::Rename => OverwritePolicy::Rename,
            Overwrite::Overwrite => OverwritePolicy::Overwrite,
            Overwrite::Fail => OverwritePolicy::Fail,
        }),
        proxy: request.proxy,
        insecure: request.insecure.then_some(true),
        cookies: request.cookies,
        urls: (!request.mirrors.is_empty()).then_some(request.mirrors),
        ..DownloadAddParams::new(request.url)
    }
}
