//! Every method against a real daemon over HTTP: the happy path and each
//! documented error, asserted as raw JSON; error responses are snapshots.

use crate::support;

use serde_json::{json, Value};
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

/// Polls `download.status` until the download is in `state`.
async fn wait_for(daemon: &Daemon, gid: &str, state: &str) -> Value {
    daemon.status_until(gid, |s| s["state"] == state).await
}

async fn add(daemon: &Daemon, params: Value) -> String {
    daemon.result("download.add", params).await["gid"]
        .as_str()
        .expect("a gid")
        .to_owned()
}

#[tokio::test]
async fn download_add_fetches_the_file_and_status_reports_it_complete() {
    let data = random_bytes(3 << 20, 1);
    let server = TestServer::start([Resource::file("/files/data.bin", data.clone())]).await;
    let daemon = Daemon::start().await;

    let response = daemon
        .call(
            "download.add",
            json!({"url": server.url("/files/data.bin"), "connections": 4}),
        )
        .await;
    let gid = response["result"]["gid"].as_str().unwrap().to_owned();
    assert_eq!(
        response,
        json!({"jsonrpc": "2.0", "id": 1, "result": {"gid": gid}})
    );
    assert!(
        gid.len() == 16
            && gid
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{gid}"
    );

    let status = wait_for(&daemon, &gid, "complete").await;
    let path = daemon.root().canonicalize().unwrap().join("data.bin");
    assert_eq!(sha256_file(&path), sha256(&data));
    assert_eq!(status["path"], json!(path.display().to_string()));
    assert_eq!(
        (
            &status["fileName"],
            &status["totalLength"],
            &status["completedLength"],
            &status["error"]
        ),
        (
            &json!("data.bin"),
            &json!(3 << 20),
            &json!(3 << 20),
            &Value::Null
        )
    );
    assert_eq!(
        (
            &status["downloadSpeed"],
            &status["connections"],
            &status["eta"]
        ),
        (&json!(0), &json!(0), &Value::Null)
    );
    assert!(
        status["completedAt"].as_str().unwrap().ends_with('Z'),
        "{status}"
    );
}

#[tokio::test]
async fn download_add_refuses_bad_urls_hostile_names_and_existing_destinations() {
    let daemon = Daemon::start_with(&["--max-downloads", "2"]).await;
    let server = TestServer::start([Resource::file("/a", vec![7; 10])]).await;
    let url = server.url("/a");

    let unsupported = daemon
        .call("download.add", json!({"url": "ftp://example.com/file"}))
        .await;
    insta::assert_json_snapshot!("add_unsupported_scheme", unsupported);
    let unparsable = daemon
        .call("download.add", json!({"url": "not a url"}))
        .await;
    assert_eq!(unparsable["error"]["code"], -32003, "{unparsable}");

    let escaping = daemon
        .call(
            "download.add",
            json!({"url": url, "fileName": "../../etc/passwd"}),
        )
        .await;
    insta::assert_json_snapshot!("add_file_name_outside_root", escaping);
    let absolute_dir = daemon
        .call("download.add", json!({"url": url, "dir": "/etc"}))
        .await;
    assert_eq!(absolute_dir["error"]["code"], -32004, "{absolute_dir}");

    std::fs::create_dir_all(daemon.root()).unwrap();
    std::fs::write(daemon.root().join("taken.bin"), b"mine").unwrap();
    let exists = daemon
        .call(
            "download.add",
            json!({"url": url, "fileName": "taken.bin", "overwrite": "fail"}),
        )
        .await;
    insta::assert_json_snapshot!("add_destination_exists", exists, {".error.data.path" => "[root]/taken.bin"});
    assert!(exists["error"]["data"]["path"]
        .as_str()
        .unwrap()
        .ends_with("/taken.bin"));
    assert_eq!(
        std::fs::read(daemon.root().join("taken.bin")).unwrap(),
        b"mine",
        "nothing was overwritten"
    );

    daemon.add(json!({"url": url, "paused": true})).await;
    daemon.add(json!({"url": url, "paused": true})).await;
    let full = daemon.call("download.add", json!({"url": url})).await;
    insta::assert_json_snapshot!("add_limit_exceeded", full);
}

#[tokio::test]
async fn params_that_break_the_schema_are_invalid_params_naming_the_param() {
    let daemon = Daemon::start().await;
    let url = "https://example.com/x";
    let cases = [
        (
            "add_too_many_connections",
            "download.add",
            json!({"url": url, "connections": 65}),
        ),
        (
            "add_malformed_checksum",
            "download.add",
            json!({"url": url, "checksum": "md5=abc"}),
        ),
        (
            "add_unknown_param",
            "download.add",
            json!({"url": url, "file_name": "x"}),
        ),
        ("add_without_url", "download.add", json!({"fileName": "x"})),
        (
            "status_of_a_malformed_gid",
            "download.status",
            json!({"gid": "ZZZ"}),
        ),
        (
            "list_over_the_page_limit",
            "download.list",
            json!({"limit": 1001}),
        ),
        (
            "set_options_to_zero_concurrency",
            "system.setOptions",
            json!({"maxConcurrent": 0}),
        ),
    ];
    for (name, method, params) in cases {
        let response = daemon.call(method, params).await;
        assert_eq!(response["error"]["code"], -32602, "{name}: {response}");
        insta::assert_json_snapshot!(name, response);
    }
}

#[tokio::test]
async fn unknown_gids_are_download_not_found_for_every_method_that_takes_one() {
    let daemon = Daemon::start().await;
    let gid = "0123456789abcdef";
    for (method, params) in [
        ("download.status", json!({"gid": gid})),
        ("download.pause", json!({"gid": gid})),
        ("download.resume", json!({"gid": gid})),
        ("download.remove", json!({"gid": gid})),
        (
            "download.setSpeedLimit",
            json!({"gid": gid, "speedLimit": 1}),
        ),
    ] {
        let response = daemon.call(method, params).await;
        assert_eq!(
            response,
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32001, "message": "Download not found", "data": {"gid": gid}}}),
            "{method}"
        );
    }
    insta::assert_json_snapshot!(
        "download_not_found",
        daemon.call("download.status", json!({"gid": gid})).await
    );
}

#[tokio::test]
async fn pause_resume_and_remove_follow_the_state_machine() {
    let data = random_bytes(2 << 20, 2);
    let server =
        TestServer::start([Resource::file("/slow.bin", data.clone()).rate(256 << 10)]).await;
    let daemon = Daemon::start().await;
    let gid = add(
        &daemon,
        json!({"url": server.url("/slow.bin"), "connections": 2}),
    )
    .await;
    wait_for(&daemon, &gid, "active").await;

    let paused = daemon.result("download.pause", json!({"gid": gid})).await;
    assert_eq!(
        (
            &paused["state"],
            &paused["downloadSpeed"],
            &paused["connections"]
        ),
        (&json!("paused"), &json!(0), &json!(0))
    );
    let again = daemon.result("download.pause", json!({"gid": gid})).await;
    assert_eq!(
        again["state"], "paused",
        "pausing a paused download changes nothing"
    );

    let resumed = daemon.result("download.resume", json!({"gid": gid})).await;
    assert!(
        resumed["state"] == "queued" || resumed["state"] == "active",
        "{resumed}"
    );
    let done = wait_for(&daemon, &gid, "complete").await;
    assert_eq!(
        sha256_file(std::path::Path::new(done["path"].as_str().unwrap())),
        sha256(&data)
    );

    let complete_pause = daemon.call("download.pause", json!({"gid": gid})).await;
    insta::assert_json_snapshot!("pause_complete", complete_pause, {".error.data.gid" => "[gid]"});
    let complete_resume = daemon.call("download.resume", json!({"gid": gid})).await;
    assert_eq!(
        complete_resume["error"]["code"], -32002,
        "{complete_resume}"
    );

    let removed = daemon
        .result("download.remove", json!({"gid": gid, "deleteFiles": true}))
        .await;
    assert_eq!(removed, json!({"gid": gid}));
    assert!(
        !std::path::Path::new(done["path"].as_str().unwrap()).exists(),
        "deleteFiles deletes the file"
    );
    assert_eq!(
        daemon.call("download.status", json!({"gid": gid})).await["error"]["code"],
        -32001
    );
}

#[tokio::test]
async fn list_pages_in_creation_order_and_filters_by_state() {
    let daemon = Daemon::start().await;
    let url = "http://127.0.0.1:9/never";
    let mut gids = Vec::new();
    for _ in 0..5 {
        gids.push(daemon.add(json!({"url": url, "paused": true})).await);
    }
    let page = daemon
        .result("download.list", json!({"offset": 1, "limit": 2}))
        .await;
    assert_eq!(page["total"], 5);
    let listed: Vec<&str> = page["downloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["gid"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [gids[1].as_str(), gids[2].as_str()]);

    let active = daemon
        .result("download.list", json!({"states": ["active", "complete"]}))
        .await;
    assert_eq!(active, json!({"downloads": [], "total": 0, "cursor": null}));
    let paused = daemon
        .result("download.list", json!({"states": ["paused"]}))
        .await;
    assert_eq!(paused["total"], 5);
    let everything = daemon.result("download.list", json!({})).await;
    assert_eq!(everything["downloads"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn speed_limits_and_options_change_at_run_time() {
    let daemon = Daemon::start().await;
    let gid = add(
        &daemon,
        json!({"url": "http://127.0.0.1:9/x", "paused": true, "speedLimit": 1000}),
    )
    .await;
    assert_eq!(
        daemon.result("download.status", json!({"gid": gid})).await["speedLimit"],
        1000
    );
    let status = daemon
        .result(
            "download.setSpeedLimit",
            json!({"gid": gid, "speedLimit": 5000}),
        )
        .await;
    assert_eq!(status["speedLimit"], 5000);

    let no_proxies =
        json!({"allProxy": null, "httpProxy": null, "httpsProxy": null, "noProxy": null});
    let options = |max: u32, limit: u64| {
        let mut options = json!({"maxConcurrent": max, "speedLimit": limit});
        options
            .as_object_mut()
            .unwrap()
            .extend(no_proxies.as_object().unwrap().clone());
        options
    };
    assert_eq!(
        daemon.result("system.getOptions", json!({})).await,
        options(5, 0)
    );
    let changed = daemon
        .result("system.setOptions", json!({"speedLimit": 1048576}))
        .await;
    assert_eq!(changed, options(5, 1048576));
    let changed = daemon
        .result("system.setOptions", json!({"maxConcurrent": 2}))
        .await;
    assert_eq!(changed, options(2, 1048576));
    assert_eq!(daemon.result("system.getOptions", json!({})).await, changed);
}

#[tokio::test]
async fn system_methods_report_version_stats_and_the_document() {
    let daemon = Daemon::start().await;
    let version = daemon.result("system.getVersion", json!({})).await;
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(version["features"], json!(["client", "server"]));
    if std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.git")).exists() {
        let commit = version["commit"]
            .as_str()
            .expect("a checkout knows its commit");
        assert!(
            commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{commit}"
        );
    }

    add(
        &daemon,
        json!({"url": "http://127.0.0.1:9/x", "paused": true}),
    )
    .await;
    let stats = daemon.result("system.getStats", json!([])).await;
    assert_eq!(
        stats,
        json!({"active": 0, "queued": 0, "paused": 1, "complete": 0, "error": 0, "downloadSpeed": 0,
               "store": {"healthy": true, "error": null}})
    );

    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openrpc.json")).unwrap();
    let (status, body) = daemon
        .post(r#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":{}}}"#,
            shipped.trim_end()
        ),
        "byte for byte"
    );
    let (status, served) = daemon.get("/openrpc.json", &[]).await;
    assert_eq!(
        (status, served),
        (200, shipped),
        "GET /openrpc.json needs no token"
    );
}

#[tokio::test]
async fn docs_are_served_without_a_token_as_the_checked_in_page() {
    let daemon = Daemon::start().await;
    let (status, page) = daemon.get("/docs", &[]).await;
    assert_eq!(status, 200);
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/site/index.html"))
            .unwrap();
    assert!(
        page == checked_in,
        "GET /docs differs from docs/site/index.html"
    );
    let response = reqwest::get(format!("http://{}/docs", daemon.addr))
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
}

#[tokio::test]
async fn the_server_registers_exactly_the_documents_methods() {
    use haul::api::{method, DaemonApiServer};
    let root = tempfile::tempdir().unwrap();
    let engine = haul::engine::Engine::open(haul::engine::EngineConfig::new(root.path(), None))
        .await
        .unwrap();
    let push = haul::rpc::push::Push::new(&haul::rpc::push::PushConfig::default());
    let tokens = std::sync::Arc::new(haul::rpc::tokens::Tokens::open(root.path()).unwrap());
    let module = haul::rpc::handlers::Handlers::new(engine, push, tokens).into_rpc();
    let mut registered: Vec<&str> = module.method_names().collect();
    let mut documented = method::ALL.to_vec();
    registered.sort_unstable();
    documented.sort_unstable();
    assert_eq!(registered, documented);
}
