//! What the benches share: their arguments and an authenticated WebSocket
//! to the daemon under test.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The arguments after `cargo bench --bench NAME --`, without the flags
/// cargo adds (`--bench`).
pub fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect()
}

/// A WebSocket to the daemon at `ws_url`, with `token` in the upgrade.
pub async fn connect(ws_url: &str, token: &str) -> Socket {
    let mut request = ws_url.into_client_request().expect("a WebSocket url");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("a header"),
    );
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the daemon accepts the WebSocket");
    socket
}
