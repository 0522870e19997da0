// generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
//! The API page's snippets (docs/site/index.html), one function per method, and `ALL` of them
//! in document order, which the tests build and call.

use haul::{Client, ClientError};

pub async fn download_add(client: &Client) -> Result<(), ClientError> {
    use haul::api::DownloadAddParams;
    let mut params = DownloadAddParams::new("https://example.com/files/ubuntu.iso");
    params.connections = Some(4);
    let result = client.download_add(&params).await?;
    let _ = result;
    Ok(())
}

pub async fn download_pause(client: &Client) -> Result<(), ClientError> {
    use haul::api::DownloadPauseParams;
    let result = client.download_pause(&DownloadPauseParams::new("2f1c0d9a7b3e4a51")).await?;
    let _ = result;
    Ok(())
}

pub async fn download_resume(client: &Client) -> Result<(), ClientError> {
    use haul::api::DownloadResumeParams;
    let result = client.download_resume(&DownloadResumeParams::new("2f1c0d9a7b3e4a51")).await?;
    let _ = result;
    Ok(())
}

pub async fn download_remove(client: &Client) -> Result<(), ClientError> {
    use haul::api::DownloadRemoveParams;
    let mut params = DownloadRemoveParams::new("2f1c0d9a7b3e4a51");
    params.delete_files = Some(true);
    let result = client.download_remove(&params).await?;
    let _ = result;
    Ok(())
}

pub async fn download_status(client: &Client) -> Result<(), ClientError> {
    use haul::api::DownloadStatusParams;
    let result = client.download_status(&DownloadStatusParams::new("2f1c0d9a7b3e4a51")).await?;
    let _ = result;
    Ok(())
}

pub async fn download_list(client: &Client) -> Result<(), ClientError> {
    use haul::api::{DownloadListParams, DownloadState};
    let mut params = DownloadListParams::new();
    params.states = Some(vec![DownloadState::Active, DownloadState::Queued]);
    params.limit = Some(10);
    let result = client.download_list(&params).await?;
    let _ = result;
    Ok(())
}

pub async fn download_set_speed_limit(client: &Client) -> Result<(), ClientError> {
    use haul::api::DownloadSetSpeedLimitParams;
    let result = client.download_set_speed_limit(&DownloadSetSpeedLimitParams::new("2f1c0d9a7b3e4a51", 1048576_u64)).await?;
    let _ = result;
    Ok(())
}

pub async fn download_set_url(client: &Client) -> Result<(), ClientError> {
    use haul::api::DownloadSetUrlParams;
    let result = client.download_set_url(&DownloadSetUrlParams::new("2f1c0d9a7b3e4a51", "https://mirror.example.org/ubuntu.iso")).await?;
    let _ = result;
    Ok(())
}

pub async fn system_get_version(client: &Client) -> Result<(), ClientError> {
    let result = client.system_get_version().await?;
    let _ = result;
    Ok(())
}

pub async fn system_get_stats(client: &Client) -> Result<(), ClientError> {
    let result = client.system_get_stats().await?;
    let _ = result;
    Ok(())
}

pub async fn system_get_options(client: &Client) -> Result<(), ClientError> {
    let result = client.system_get_options().await?;
    let _ = result;
    Ok(())
}

pub async fn system_set_options(client: &Client) -> Result<(), ClientError> {
    use haul::api::SystemSetOptionsParams;
    let mut params = SystemSetOptionsParams::new();
    params.speed_limit = Some(10485760);
    let result = client.system_set_options(&params).await?;
    let _ = result;
    Ok(())
}

pub async fn events_subscribe(client: &Client) -> Result<(), ClientError> {
    use haul::api::EventsSubscribeParams;
    let mut params = EventsSubscribeParams::new();
    params.since = Some(41);
    params.stream_id = Some("c0ffee0ddba11e57".to_owned());
    let result = client.events_subscribe(&params).await?;
    let _ = result;
    Ok(())
}

pub async fn events_unsubscribe(client: &Client) -> Result<(), ClientError> {
    let result = client.events_unsubscribe().await?;
    let _ = result;
    Ok(())
}

pub async fn events_poll(client: &Client) -> Result<(), ClientError> {
    use haul::api::EventsPollParams;
    let mut params = EventsPollParams::new();
    params.since = Some(41);
    params.stream_id = Some("c0ffee0ddba11e57".to_owned());
    let result = client.events_poll(&params).await?;
    let _ = result;
    Ok(())
}

pub async fn token_add(client: &Client) -> Result<(), ClientError> {
    use haul::api::{TokenAddParams, TokenScope};
    let result = client.token_add(&TokenAddParams::new("dashboard", TokenScope::Read)).await?;
    let _ = result;
    Ok(())
}

pub async fn token_list(client: &Client) -> Result<(), ClientError> {
    let result = client.token_list().await?;
    let _ = result;
    Ok(())
}

pub async fn token_remove(client: &Client) -> Result<(), ClientError> {
    use haul::api::TokenRemoveParams;
    let result = client.token_remove(&TokenRemoveParams::new("dashboard")).await?;
    let _ = result;
    Ok(())
}

pub async fn rpc_discover(client: &Client) -> Result<(), ClientError> {
    let result = client.rpc_discover().await?;
    let _ = result;
    Ok(())
}

/// Calls every snippet, in document order: the method each calls, and how it ended.
pub async fn all(client: &Client) -> Vec<(&'static str, Result<(), ClientError>)> {
    vec![
        ("download.add", download_add(client).await),
        ("download.pause", download_pause(client).await),
        ("download.resume", download_resume(client).await),
        ("download.remove", download_remove(client).await),
        ("download.status", download_status(client).await),
        ("download.list", download_list(client).await),
        ("download.setSpeedLimit", download_set_speed_limit(client).await),
        ("download.setUrl", download_set_url(client).await),
        ("system.getVersion", system_get_version(client).await),
        ("system.getStats", system_get_stats(client).await),
        ("system.getOptions", system_get_options(client).await),
        ("system.setOptions", system_set_options(client).await),
        ("events.subscribe", events_subscribe(client).await),
        ("events.unsubscribe", events_unsubscribe(client).await),
        ("events.poll", events_poll(client).await),
        ("token.add", token_add(client).await),
        ("token.list", token_list(client).await),
        ("token.remove", token_remove(client).await),
        ("rpc.discover", rpc_discover(client).await),
    ]
}
