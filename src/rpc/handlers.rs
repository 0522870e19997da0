//! The `DaemonApiServer` methods over the engine: each one engine call plus
//! the mapping of its values and errors to the contract's types and codes.

use std::str::FromStr;
use std::sync::Arc;
use std::time::SystemTime;

use jsonrpsee::core::RpcResult;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::value::RawValue;

use crate::api::{self, errors, DaemonApiServer, ErrorCode};
use crate::engine::{self, AddRequest, Engine, EngineError, Gid, Overwrite, ProxyUrl, State};

use super::push::{Poll, Push};
use super::tokens::{Scope, Tokens, TokensError};

/// The daemon's implementation of the API.
pub struct Handlers {
    engine: Engine,
    /// The notification hub, whose window `events.poll` reads.
    push: Push,
    /// The named tokens `token.*` manage.
    tokens: Arc<Tokens>,
}

impl Handlers {
    pub fn new(engine: Engine, push: Push, tokens: Arc<Tokens>) -> Handlers {
        Handlers {
            engine,
            push,
            tokens,
        }
    }

    /// Runs a change of the tokens file (written and synced) off the
    /// async threads.
    async fn tokens<T: Send + 'static>(
        &self,
        change: impl FnOnce(&Tokens) -> Result<T, TokensError> + Send + 'static,
    ) -> RpcResult<T> {
        let tokens = self.tokens.clone();
        let done = tokio::task::spawn_blocking(move || change(&tokens)).await;
        match done {
            Ok(result) => result.map_err(tokens_error),
            Err(e) => {
                tracing::error!(error = %e, "a token change failed");
                Err(ErrorCode::InternalError.into_error_object())
            }
        }
    }
}

fn tokens_error(e: TokensError) -> ErrorObjectOwned {
    match e {
        TokensError::NotFound(name) => errors::token_not_found(name),
        e @ (TokensError::Exists(_) | TokensError::BadName(_)) => {
            errors::invalid_params(Some("name".into()), e.to_string())
        }
        e
        @ (TokensError::Read { .. } | TokensError::Corrupt { .. } | TokensError::Write { .. }) => {
            errors::store_unavailable(e.to_string())
        }
    }
}

impl DaemonApiServer for Handlers {
    async fn token_add(&self, params: api::TokenAddParams) -> RpcResult<api::NewToken> {
        let scope = Scope::from(params.scope);
        let (record, token) = self
            .tokens(move |tokens| tokens.add(&params.name, scope))
            .await?;
        tracing::info!(name = %record.name, scope = scope.as_str(), "a named token was added");
        Ok(api::NewToken {
            name: record.name,
            scope: record.scope.into(),
            token,
            created_at: record.created_at,
        })
    }

    async fn token_list(&self) -> RpcResult<api::TokenList> {
        let records = self.tokens(|tokens| tokens.list()).await?;
        let tokens = records
            .into_iter()
            .map(|r| api::TokenInfo {
                name: r.name,
                scope: r.scope.into(),
                created_at: r.created_at,
            })
            .collect();
        Ok(api::TokenList { tokens })
    }

    async fn token_remove(&self, params: api::TokenRemoveParams) -> RpcResult<api::RemovedToken> {
        let name = params.name.clone();
        self.tokens(move |tokens| tokens.remove(&params.name))
            .await?;
        tracing::info!(%name, "a named token was revoked");
        Ok(api::RemovedToken { name })
    }

    async fn download_add(&self, params: api::DownloadAddParams) -> RpcResult<api::AddResult> {
        let api::DownloadAddParams {
            url,
            urls,
            file_name,
            dir,
            connections,
            headers,
            checksum,
            speed_limit,
            paused,
            overwrite,
            proxy,
            insecure,
            cookies,
        } = params;
        let checksum = match checksum {
            Some(text) => Some(
                engine::Checksum::from_str(&text)
                    .map_err(|e| errors::invalid_params(Some("checksum".into()), e.to_string()))?,
            ),
            None => None,
        };
        let request = AddRequest {
            url,
            file_name,
            dir,
            // The params check bounds it to 1..=64.
            connections: connections.map(|c| u16::try_from(c).unwrap_or(u16::MAX)),
            headers: headers.unwrap_or_default(),
            checksum,
            speed_limit,
            paused: paused.unwrap_or(false),
            overwrite: match overwrite.unwrap_or(api::OverwritePolicy::Rename) {
                api::OverwritePolicy::Rename => Overwrite::Rename,
                api::OverwritePolicy::Overwrite => Overwrite::Overwrite,
                api::OverwritePolicy::Fail => Overwrite::Fail,
            },
            proxy,
            insecure: insecure.unwrap_or(false),
            cookies,
            mirrors: urls.unwrap_or_default(),
        };
        let gid = self.engine.add(request).await.map_err(api_error)?;
        Ok(api::AddResult {
            gid: gid.to_string(),
        })
    }

    async fn download_pause(
        &self,
        params: api::DownloadPauseParams,
    ) -> RpcResult<api::DownloadStatus> {
        let gid = parse_gid(&params.gid)?;
        self.engine
            .pause(gid)
            .await
            .map(api_status)
            .map_err(api_error)
    }

    async fn download_resume(
        &self,
        params: api::DownloadResumeParams,
    ) -> RpcResult<api::DownloadStatus> {
        let gid = parse_gid(&params.gid)?;
        self.engine
            .resume(gid)
            .await
            .map(api_status)
            .map_err(api_error)
    }

    async fn download_remove(
        &self,
        params: api::DownloadRemoveParams,
    ) -> RpcResult<api::RemoveResult> {
        let parsed = parse_gid(&params.gid)?;
        self.engine
            .remove(parsed, params.delete_files.unwrap_or(false))
            .await
            .map_err(api_error)?;
        Ok(api::RemoveResult { gid: params.gid })
    }

    async fn download_status(
        &self,
        params: api::DownloadStatusParams,
    ) -> RpcResult<api::DownloadStatus> {
        self.status_of(parse_gid(&params.gid)?)
    }

    async fn download_list(&self, params: api::DownloadListParams) -> RpcResult<api::DownloadList> {
        let api::DownloadListParams {
            states,
            offset,
            limit,
            cursor,
        } = params;
        let states: Vec<State> = states
            .unwrap_or_default()
            .into_iter()
            .map(engine_state)
            .collect();
        let offset = usize::try_from(offset.unwrap_or(0)).unwrap_or(usize::MAX);
        let limit = limit.unwrap_or(100) as usize;
        let after = match cursor {
            Some(text) => Some(text.parse::<engine::Cursor>().map_err(|_| {
                errors::invalid_params(
                    Some("cursor".into()),
                    format!("{text:?} is not a cursor from download.list"),
                )
            })?),
            None => None,
        };
        let page = self.engine.list(&states, offset, limit, after);
        Ok(api::DownloadList {
            downloads: page.downloads.into_iter().map(api_status).collect(),
            total: page.total as u64,
            cursor: page.cursor.map(|c| c.to_string()),
        })
    }

    async fn download_set_url(
        &self,
        params: api::DownloadSetUrlParams,
    ) -> RpcResult<api::DownloadStatus> {
        let gid = parse_gid(&params.gid)?;
        self.engine
            .set_url(gid, params.url, params.restart.unwrap_or(false))
            .await
            .map(api_status)
            .map_err(api_error)
    }

    async fn download_set_speed_limit(
        &self,
        params: api::DownloadSetSpeedLimitParams,
    ) -> RpcResult<api::DownloadStatus> {
        let gid = parse_gid(&params.gid)?;
        self.engine
            .set_speed_limit(gid, params.speed_limit)
            .await
            .map(api_status)
            .map_err(api_error)
    }

    async fn system_get_version(&self) -> RpcResult<api::VersionInfo> {
        let mut features = Vec::new();
        if cfg!(feature = "client") {
            features.push("client".to_owned());
        }
        if cfg!(feature = "server") {
            features.push("server".to_owned());
        }
        Ok(api::VersionInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: option_env!("HAUL_GIT_COMMIT").map(str::to_owned),
            features,
        })
    }

    async fn system_get_stats(&self) -> RpcResult<api::Stats> {
        let s = self.engine.stats();
        Ok(api::Stats {
            active: s.active,
            queued: s.queued,
            paused: s.paused,
            complete: s.complete,
            error: s.error,
            download_speed: s.download_speed,
            store: api::StoreHealth {
                healthy: s.store_failure.is_none(),
                error: s.store_failure.map(|f| f.0),
            },
        })
    }

    async fn system_get_options(&self) -> RpcResult<api::Options> {
        Ok(api_options(self.engine.options()))
    }

    async fn system_set_options(
        &self,
        params: api::SystemSetOptionsParams,
    ) -> RpcResult<api::Options> {
        // Every proxy is checked before anything changes: a refused call
        // changes nothing.
        let proxy = |name: &str, value: Option<String>| {
            value
                .map(|text| match text.as_str() {
                    "" => Ok(None),
                    text => ProxyUrl::parse(text)
                        .map(Some)
                        .map_err(|reason| errors::invalid_params(Some(name.into()), reason)),
                })
                .transpose()
        };
        let all = proxy("allProxy", params.all_proxy)?;
        let http = proxy("httpProxy", params.http_proxy)?;
        let https = proxy("httpsProxy", params.https_proxy)?;
        if let Some(n) = params.max_concurrent {
            self.engine.set_max_concurrent(n as usize);
        }
        if let Some(limit) = params.speed_limit {
            self.engine.set_global_speed_limit(limit);
        }
        if all.is_some() || http.is_some() || https.is_some() || params.no_proxy.is_some() {
            self.engine.update_proxies(|proxies| {
                if let Some(all) = all {
                    proxies.all = all;
                }
                if let Some(http) = http {
                    proxies.http = http;
                }
                if let Some(https) = https {
                    proxies.https = https;
                }
                if let Some(list) = params.no_proxy {
                    proxies.no_proxy = Some(list).filter(|l| !l.trim().is_empty());
                }
            });
        }
        Ok(api_options(self.engine.options()))
    }

    // A WebSocket connection's own `events.*` calls never get here: its
    // forwarder answers them in line with its notifications (`push`). These
    // are the same calls over HTTP, or inside a batch.
    async fn events_subscribe(
        &self,
        _params: api::EventsSubscribeParams,
    ) -> RpcResult<api::EventStream> {
        Err(ErrorCode::WebSocketRequired.into_error_object())
    }

    async fn events_unsubscribe(&self) -> RpcResult<api::EventStream> {
        Err(ErrorCode::WebSocketRequired.into_error_object())
    }

    async fn events_poll(&self, params: api::EventsPollParams) -> RpcResult<api::EventPoll> {
        let api::EventsPollParams {
            since,
            stream_id,
            limit,
            gids,
            kinds,
        } = params;
        let poll = Poll {
            since,
            stream_id,
            limit: limit.unwrap_or(1000) as usize,
            gids,
            kinds,
        };
        self.push.poll(&poll)
    }

    async fn rpc_discover(&self) -> RpcResult<api::OpenrpcDocument> {
        // Byte for byte as shipped, but for the file's final newline, which
        // is not part of the JSON value.
        RawValue::from_string(api::OPENRPC_JSON.trim_end().to_owned()).map_err(|e| {
            tracing::error!(error = %e, "the shipped document is not JSON");
            ErrorCode::InternalError.into_error_object()
        })
    }
}

impl Handlers {
    fn status_of(&self, gid: Gid) -> RpcResult<api::DownloadStatus> {
        self.engine.status(gid).map(api_status).map_err(api_error)
    }
}

/// The params check has already matched the gid pattern.
fn parse_gid(gid: &str) -> Result<Gid, ErrorObjectOwned> {
    gid.parse().map_err(|e: engine::ParseGidError| {
        errors::invalid_params(Some("gid".into()), e.to_string())
    })
}

/// Each engine error is one of the contract's error codes, with its data.
pub fn api_error(e: EngineError) -> ErrorObjectOwned {
    match e {
        EngineError::NotFound { gid } => errors::download_not_found(gid.to_string()),
        EngineError::InvalidState { gid, state } => {
            errors::invalid_state(gid.to_string(), api_state(state))
        }
        EngineError::InvalidUrl { url, reason } => errors::invalid_url(url, reason),
        EngineError::InvalidParam { name, reason } => {
            errors::invalid_params(Some(name.to_owned()), reason)
        }
        EngineError::OutsideRoot { path } => {
            errors::outside_download_root(path.display().to_string())
        }
        EngineError::DestinationExists { path } => {
            errors::destination_exists(path.display().to_string())
        }
        EngineError::LimitExceeded { limit, max } => errors::limit_exceeded(limit.to_owned(), max),
        EngineError::RemoteFileDiffers { url, reason } => errors::remote_file_differs(url, reason),
        EngineError::StoreUnavailable { reason } => errors::store_unavailable(reason),
        // The engine logged the details.
        EngineError::Internal => ErrorCode::InternalError.into_error_object(),
    }
}

pub fn api_status(s: engine::Status) -> api::DownloadStatus {
    api::DownloadStatus {
        gid: s.gid.to_string(),
        url: s.url,
        state: api_state(s.state),
        file_name: s.file_name,
        path: s.path.map(|p| {
            p.into_os_string()
                .into_string()
                .unwrap_or_else(|p| p.to_string_lossy().into_owned())
        }),
        total_length: s.total_length,
        completed_length: s.completed_length,
        download_speed: s.download_speed,
        eta: s.eta,
        connections: s.connections,
        sources: s
            .sources
            .into_iter()
            .map(|source| api::Source {
                url: source.url,
                state: match source.state {
                    engine::SourceState::Waiting => api::SourceState::Waiting,
                    engine::SourceState::Active => api::SourceState::Active,
                    engine::SourceState::Dropped => api::SourceState::Dropped,
                },
                download_speed: source.download_speed,
                connections: source.connections,
                reason: source.reason,
            })
            .collect(),
        speed_limit: s.speed_limit,
        proxy: s.proxy,
        insecure: s.insecure,
        error: s.error.map(|f| api::Failure {
            code: api_failure_code(f.code),
            message: f.message,
        }),
        created_at: rfc3339(s.created_at),
        completed_at: s.completed_at.map(rfc3339),
        node: s.node,
    }
}

fn api_options(o: engine::Options) -> api::Options {
    api::Options {
        max_concurrent: u32::try_from(o.max_concurrent).unwrap_or(u32::MAX),
        speed_limit: o.global_speed_limit,
        all_proxy: o.proxies.all.map(|p| p.shown()),
        http_proxy: o.proxies.http.map(|p| p.shown()),
        https_proxy: o.proxies.https.map(|p| p.shown()),
        no_proxy: o.proxies.no_proxy,
    }
}

pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn api_state(s: State) -> api::DownloadState {
    match s {
        State::Queued => api::DownloadState::Queued,
        State::Active => api::DownloadState::Active,
        State::Paused => api::DownloadState::Paused,
        State::Complete => api::DownloadState::Complete,
        State::Error => api::DownloadState::Error,
    }
}

fn engine_state(s: api::DownloadState) -> State {
    match s {
        api::DownloadState::Queued => State::Queued,
        api::DownloadState::Active => State::Active,
        api::DownloadState::Paused => State::Paused,
        api::DownloadState::Complete => State::Complete,
        api::DownloadState::Error => State::Error,
    }
}

pub fn api_failure_code(c: engine::FailureCode) -> api::FailureCode {
    use engine::FailureCode as F;
    match c {
        F::Network => api::FailureCode::Network,
        F::HttpStatus => api::FailureCode::HttpStatus,
        F::InvalidResponse => api::FailureCode::InvalidResponse,
        F::ChecksumMismatch => api::FailureCode::ChecksumMismatch,
        F::DestinationExists => api::FailureCode::DestinationExists,
        F::DiskFull => api::FailureCode::DiskFull,
        F::Io => api::FailureCode::Io,
        F::Internal => api::FailureCode::Internal,
        F::Tls => api::FailureCode::Tls,
        F::Proxy => api::FailureCode::Proxy,
    }
}
