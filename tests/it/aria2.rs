//! The aria2-compatible port: aria2's wire quirks, its token, its method
//! semantics over haul's engine, its notifications on its own WebSocket,
//! and both doors showing the same downloads.
#![cfg(feature = "server")]

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::aria2::{Aria2Client, SECRET};
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

const ORIGIN: &str = "http://ui.example:8080";

async fn daemon(extra: &[&str]) -> (Daemon, Aria2Client) {
    let mut flags = vec![
        "--aria2-listen",
        "127.0.0.1:0",
        "--aria2-secret",
        SECRET,
        "--allow-origin",
        ORIGIN,
    ];
    flags.extend_from_slice(extra);
    let daemon = Daemon::start_with(&flags).await;
    let aria2 = Aria2Client::new(daemon.aria2.as_deref().expect("the aria2 port"));
    (daemon, aria2)
}

/// A file served slowly enough to pause, and one served at once.
async fn files() -> (TestServer, Vec<u8>) {
    let data = random_bytes(512 * 1024, 17);
    let server = TestServer::start([
        Resource::file("/slow.bin", data.clone()).rate(64 * 1024),
        Resource::file("/fast.bin", data.clone()),
    ])
    .await;
    (server, data)
}

fn gid(value: &Value) -> String {
    value.as_str().expect("a gid").to_owned()
}

#[tokio::test]
async fn aria2s_quirks_and_errors_are_answered_as_aria2_answers_them() {
    let (_daemon, aria2) = daemon(&[]).await;
    let token = format!("token:{SECRET}");
    let cases = [
        ("parse_error", "{\"id\":1,".to_owned()),
        ("no_id", json!({"jsonrpc": "2.0", "method": "aria2.getGlobalStat", "params": [token]}).to_string()),
        ("method_not_a_string", json!({"jsonrpc": "2.0", "id": 1, "method": 7}).to_string()),
        ("params_not_an_array", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.getGlobalStat", "params": token}).to_string()),
        ("no_token", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.getGlobalStat"}).to_string()),
        ("wrong_token", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.getGlobalStat", "params": ["token:nope"]}).to_string()),
        ("unknown_method", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.nope", "params": [token]}).to_string()),
        ("missing_param", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.tellStatus", "params": [token]}).to_string()),
        ("wrong_param_type", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.tellStatus", "params": [token, 5]}).to_string()),
        ("bad_gid", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.tellStatus", "params": [token, "xyz"]}).to_string()),
        ("unknown_gid", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.tellStatus", "params": [token, "0123456789abcdef"]}).to_string()),
        ("no_uri", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.addUri", "params": [token, []]}).to_string()),
        ("bittorrent", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.addTorrent", "params": [token, "ZDE6YWU="]}).to_string()),
        ("bad_option", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.addUri", "params": [token, ["http://h/x"], {"max-download-limit": "lots"}]}).to_string()),
        ("dir_outside_the_root", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.addUri", "params": [token, ["http://h/x"], {"dir": "/etc"}]}).to_string()),
        ("not_http", json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.addUri", "params": [token, ["ftp://h/x"]]}).to_string()),
        ("empty_batch", "[]".to_owned()),
        ("batch", json!([
            {"jsonrpc": "2.0", "id": 1, "method": "system.listNotifications"},
            {"jsonrpc": "2.0", "id": 2, "method": "aria2.nope", "params": [token]},
        ]).to_string()),
    ];
    for (name, body) in cases {
        let (status, answer) = aria2.post(&body).await;
        // The root is a temporary directory.
        let answer = answer
            .to_string()
            .replace(_daemon.root.to_str().unwrap(), "[root]");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        insta::assert_json_snapshot!(name, json!({"status": status, "answer": answer}));
    }
}

#[tokio::test]
async fn the_jsonrpc_member_is_not_required_and_ids_keep_their_json_type() {
    let (_daemon, aria2) = daemon(&[]).await;
    let token = format!("token:{SECRET}");
    for (member, id) in [
        ("json-rpc", json!("2.0")),
        ("jsonrpc", json!(2)),
        ("nothing", json!(null)),
    ] {
        for id_value in [json!(1), json!("a"), json!([1, "x"]), json!(null)] {
            let mut body = json!({"id": id_value, "method": "aria2.getGlobalStat", "params": [token, "extra", 1]});
            if member != "nothing" {
                body[member] = id.clone();
            }
            let (status, answer) = aria2.post(&body.to_string()).await;
            assert_eq!(status, 200, "{body}: {answer}");
            assert_eq!(answer["id"], id_value, "{body}");
            assert_eq!(answer["jsonrpc"], "2.0");
            assert_eq!(answer["result"]["numActive"], "0");
        }
    }
}

#[tokio::test]
async fn a_download_added_through_the_aria2_door_completes_and_both_apis_show_it() {
    let (daemon, aria2) = daemon(&[]).await;
    let (server, data) = files().await;
    let gid = gid(&aria2
        .result(
            "aria2.addUri",
            json!([[server.url("/fast.bin")], {"dir": "isos", "out": "fast.bin", "split": "4"}]),
        )
        .await);
    let status = aria2.status_until(&gid, "complete").await;
    let path = daemon.root.join("isos/fast.bin");
    assert_eq!(sha256_file(&path), sha256(&data));
    let haul = daemon.result("download.status", json!({"gid": gid})).await;
    assert_eq!(haul["state"], "complete");
    assert_eq!(haul["path"], path.to_str().unwrap());
    let status = status
        .to_string()
        .replace(daemon.root.to_str().unwrap(), "[root]");
    let status: Value = serde_json::from_str(&status).unwrap();
    insta::assert_json_snapshot!(status, {
        ".gid" => "[gid]",
        ".files[].uris[].uri" => "[url]",
    });
    let stopped = aria2
        .result(
            "aria2.tellStopped",
            json!([0, 10, ["gid", "status", "errorCode"]]),
        )
        .await;
    assert_eq!(
        stopped,
        json!([{"gid": gid, "status": "complete", "errorCode": "0"}])
    );
    let options = aria2.result("aria2.getOption", json!([gid])).await;
    assert_eq!(
        (&options["split"], &options["out"]),
        (&json!("4"), &json!("fast.bin"))
    );
}

#[tokio::test]
async fn downloads_added_through_haul_are_seen_by_aria2_clients_and_gids_match_by_prefix() {
    let (daemon, aria2) = daemon(&["--max-concurrent", "1"]).await;
    let (server, _) = files().await;
    let active = daemon.add(json!({"url": server.url("/slow.bin")})).await;
    let waiting = daemon.add(json!({"url": server.url("/slow.bin")})).await;
    aria2.status_until(&active, "active").await;
    let seen = aria2
        .result("aria2.tellActive", json!([["gid", "status"]]))
        .await;
    assert_eq!(seen, json!([{"gid": active, "status": "active"}]));
    let seen = aria2
        .result("aria2.tellWaiting", json!([0, 5, ["gid", "status"]]))
        .await;
    assert_eq!(seen, json!([{"gid": waiting, "status": "waiting"}]));
    let by_prefix = aria2
        .result("aria2.tellStatus", json!([&waiting[..6], ["gid"]]))
        .await;
    assert_eq!(by_prefix, json!({"gid": waiting}));
    let stat = aria2.result("aria2.getGlobalStat", json!([])).await;
    assert_eq!(
        (&stat["numActive"], &stat["numWaiting"]),
        (&json!("1"), &json!("1"))
    );
}

#[tokio::test]
async fn pause_unpause_and_remove_follow_aria2s_rules_and_removed_downloads_stay_listed() {
    let (daemon, aria2) = daemon(&[]).await;
    let (server, _) = files().await;
    let gid = gid(&aria2
        .result("aria2.addUri", json!([[server.url("/slow.bin")]]))
        .await);
    aria2.status_until(&gid, "active").await;
    assert_eq!(aria2.result("aria2.pause", json!([gid])).await, json!(gid));
    aria2.status_until(&gid, "paused").await;
    let again = aria2.error("aria2.pause", json!([gid])).await;
    assert_eq!(again["message"], format!("GID#{gid} cannot be paused now"));
    let haul = daemon.result("download.status", json!({"gid": gid})).await;
    assert_eq!(haul["state"], "paused");
    assert_eq!(
        aria2.result("aria2.unpause", json!([gid])).await,
        json!(gid)
    );
    aria2.status_until(&gid, "active").await;
    let not_paused = aria2.error("aria2.unpause", json!([gid])).await;
    assert_eq!(
        not_paused["message"],
        format!("GID#{gid} cannot be unpaused now")
    );
    assert_eq!(aria2.result("aria2.remove", json!([gid])).await, json!(gid));
    let removed = aria2.status_until(&gid, "removed").await;
    assert_eq!(removed["errorCode"], "31");
    // haul forgets it; the aria2 door remembers it until told to forget.
    let (_, answer) = daemon
        .post(
            json!({"jsonrpc": "2.0", "id": 1, "method": "download.status", "params": {"gid": gid}})
                .to_string(),
        )
        .await;
    assert!(
        answer.contains("DownloadNotFound") || answer.contains("-32001"),
        "{answer}"
    );
    let stopped = aria2
        .result("aria2.tellStopped", json!([-1, 10, ["gid", "status"]]))
        .await;
    assert_eq!(stopped, json!([{"gid": gid, "status": "removed"}]));
    let twice = aria2.error("aria2.remove", json!([gid])).await;
    assert_eq!(twice["message"], format!("GID {gid} is not found"));
    assert_eq!(
        aria2
            .result("aria2.removeDownloadResult", json!([gid]))
            .await,
        "OK"
    );
    assert_eq!(
        aria2.result("aria2.tellStopped", json!([0, 10])).await,
        json!([])
    );
    let stat = aria2.result("aria2.getGlobalStat", json!([])).await;
    assert_eq!(
        (&stat["numStopped"], &stat["numStoppedTotal"]),
        (&json!("0"), &json!("1"))
    );
}

#[tokio::test]
async fn pause_all_and_unpause_all_and_purge_act_on_every_download() {
    let (_daemon, aria2) = daemon(&["--max-concurrent", "1"]).await;
    let (server, _) = files().await;
    let slow = [
        gid(&aria2
            .result("aria2.addUri", json!([[server.url("/slow.bin")]]))
            .await),
        gid(&aria2
            .result("aria2.addUri", json!([[server.url("/slow.bin")]]))
            .await),
    ];
    aria2.status_until(&slow[0], "active").await;
    assert_eq!(aria2.result("aria2.pauseAll", json!([])).await, "OK");
    for gid in &slow {
        aria2.status_until(gid, "paused").await;
    }
    assert_eq!(aria2.result("aria2.unpauseAll", json!([])).await, "OK");
    aria2.status_until(&slow[0], "active").await;
    aria2.status_until(&slow[1], "waiting").await;
    let fast = gid(&aria2
        .result("aria2.addUri", json!([[server.url("/fast.bin")], {}, 0]))
        .await);
    aria2.result("aria2.remove", json!([slow[0]])).await;
    aria2.status_until(&fast, "complete").await;
    assert_eq!(
        aria2.result("aria2.purgeDownloadResult", json!([])).await,
        "OK"
    );
    let stopped = aria2.result("aria2.tellStopped", json!([0, 10])).await;
    assert_eq!(stopped, json!([]));
    let stat = aria2.result("aria2.getGlobalStat", json!([])).await;
    assert_eq!(stat["numStoppedTotal"], "2");
}

#[tokio::test]
async fn change_position_reorders_the_waiting_queue_which_survives_a_restart() {
    let (daemon, aria2) = daemon(&["--max-concurrent", "1"]).await;
    let (server, _) = files().await;
    let mut gids = Vec::new();
    for _ in 0..4 {
        let added = aria2
            .result(
                "aria2.addUri",
                json!([[server.url("/slow.bin")], {"pause": "true"}]),
            )
            .await;
        gids.push(gid(&added));
    }
    let order = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["gid"].as_str().unwrap().to_owned())
            .collect()
    };
    let waiting = || aria2.result("aria2.tellWaiting", json!([0, 10, ["gid"]]));
    assert_eq!(order(waiting().await), gids);
    assert_eq!(
        aria2
            .result("aria2.changePosition", json!([gids[3], 0, "POS_SET"]))
            .await,
        json!(0)
    );
    assert_eq!(
        aria2
            .result("aria2.changePosition", json!([gids[0], -1, "POS_CUR"]))
            .await,
        json!(0)
    );
    assert_eq!(
        aria2
            .result("aria2.changePosition", json!([gids[1], 0, "POS_END"]))
            .await,
        json!(3)
    );
    let expected = vec![
        gids[0].clone(),
        gids[3].clone(),
        gids[2].clone(),
        gids[1].clone(),
    ];
    assert_eq!(order(waiting().await), expected);
    let backwards = aria2
        .result("aria2.tellWaiting", json!([-1, 2, ["gid"]]))
        .await;
    assert_eq!(order(backwards), vec![gids[1].clone(), gids[2].clone()]);
    let refused = aria2
        .error("aria2.changePosition", json!([gids[0], 0, "POS_NOWHERE"]))
        .await;
    assert_eq!(refused["message"], "Illegal argument.");

    let (daemon, _) = daemon
        .restart(&[
            "--aria2-listen",
            "127.0.0.1:0",
            "--aria2-secret",
            SECRET,
            "--max-concurrent",
            "1",
        ])
        .await;
    let aria2 = Aria2Client::new(daemon.aria2.as_deref().unwrap());
    let waiting = aria2
        .result("aria2.tellWaiting", json!([0, 10, ["gid"]]))
        .await;
    assert_eq!(
        order(waiting),
        expected,
        "the order is kept across a restart"
    );
    // The queue starts in its order: the first of it, then no other.
    assert_eq!(aria2.result("aria2.unpauseAll", json!([])).await, "OK");
    aria2.status_until(&gids[0], "active").await;
    for gid in &gids[1..] {
        aria2.status_until(gid, "waiting").await;
    }
}

#[tokio::test]
async fn options_map_onto_haul_and_unknown_ones_are_ignored() {
    let (daemon, aria2) = daemon(&[]).await;
    let (server, _) = files().await;
    let changed = aria2
        .result(
            "aria2.changeGlobalOption",
            json!([{"max-concurrent-downloads": "2", "max-overall-download-limit": "1M", "bt-max-peers": "3"}]),
        )
        .await;
    assert_eq!(changed, "OK");
    let options = daemon.result("system.getOptions", json!({})).await;
    assert_eq!(
        (&options["maxConcurrent"], &options["speedLimit"]),
        (&json!(2), &json!(1 << 20))
    );
    let global = aria2.result("aria2.getGlobalOption", json!([])).await;
    assert_eq!(global["max-concurrent-downloads"], "2");
    assert_eq!(global["max-overall-download-limit"], "1048576");
    assert_eq!(global["dir"], daemon.root.to_str().unwrap());
    // A new default directory, inside the root, for downloads that name none.
    aria2
        .result("aria2.changeGlobalOption", json!([{"dir": "later"}]))
        .await;
    let gid = gid(&aria2
        .result(
            "aria2.addUri",
            json!([[server.url("/slow.bin")], {"pause": true}]),
        )
        .await);
    let options = aria2.result("aria2.getOption", json!([gid])).await;
    assert_eq!(options["dir"], daemon.root.join("later").to_str().unwrap());
    assert_eq!(
        aria2
            .result(
                "aria2.changeOption",
                json!([gid, {"max-download-limit": "100K", "continue": "true"}])
            )
            .await,
        "OK"
    );
    let haul = daemon.result("download.status", json!({"gid": gid})).await;
    assert_eq!(haul["speedLimit"], 100 * 1024);
    let refused = aria2
        .error(
            "aria2.changeGlobalOption",
            json!([{"max-concurrent-downloads": "0"}]),
        )
        .await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("--max-concurrent-downloads"),
        "{refused}"
    );
}

#[tokio::test]
async fn notifications_reach_aria2_websockets_in_aria2s_shape_and_haul_ones_never_do() {
    let (daemon, aria2) = daemon(&[]).await;
    let (server, _) = files().await;
    let mut socket = aria2.ws().await;
    let mut haul = daemon.ws().await;
    let mut seen = Vec::new();
    haul.call(
        r#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{}}"#,
        &mut seen,
    )
    .await;
    // Added through haul's door, seen through aria2's.
    let gid = daemon.add(json!({"url": server.url("/fast.bin")})).await;
    let mut frames = Vec::new();
    while let Some(frame) = socket.next(Duration::from_secs(10)).await {
        let done = frame["method"] == "aria2.onDownloadComplete";
        frames.push(frame);
        if done {
            break;
        }
    }
    let expected =
        |method: &str| json!({"jsonrpc": "2.0", "method": method, "params": [{"gid": gid}]});
    assert_eq!(
        frames,
        vec![
            expected("aria2.onDownloadStart"),
            expected("aria2.onDownloadComplete")
        ]
    );
    // Calls on the same socket are answered there.
    socket
        .send(json!({"jsonrpc": "2.0", "id": "ws", "method": "aria2.tellStatus", "params": [format!("token:{SECRET}"), gid, ["status"]]}))
        .await;
    let answer = socket.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        answer,
        json!({"id": "ws", "jsonrpc": "2.0", "result": {"status": "complete"}})
    );
    let notifications = haul
        .notifications_until(Duration::from_secs(5), |n| {
            n["method"] == "download.complete"
        })
        .await;
    assert!(notifications.iter().all(|n| !n["method"]
        .as_str()
        .unwrap_or_default()
        .starts_with("aria2.")));
    // A removal through haul's door is a stop to aria2 clients.
    let second = daemon
        .add(json!({"url": server.url("/slow.bin"), "paused": true}))
        .await;
    daemon
        .result("download.remove", json!({"gid": second}))
        .await;
    let stop = socket.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        stop,
        json!({"jsonrpc": "2.0", "method": "aria2.onDownloadStop", "params": [{"gid": second}]})
    );
}

#[tokio::test]
async fn get_requests_take_base64_params_batches_and_jsonp_callbacks() {
    use base64::Engine as _;
    let (daemon, _aria2) = daemon(&[]).await;
    let port = daemon.aria2.clone().unwrap();
    let encode = |v: Value| base64::engine::general_purpose::STANDARD.encode(v.to_string());
    let params = encode(json!([format!("token:{SECRET}")]));
    let http = reqwest::Client::new();
    let get = |query: String| {
        let http = http.clone();
        let url = format!("http://{port}/jsonrpc?{query}");
        async move {
            let response = http.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, body) = get(format!(
        "method=aria2.getGlobalStat&id=q1&params={}",
        urlencode(&params)
    ))
    .await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&answer["id"], &answer["result"]["numActive"]),
        (&json!("q1"), &json!("0"))
    );
    let (_, body) = get(format!(
        "method=aria2.getGlobalStat&id=2&params={params}&jsoncallback=cb"
    ))
    .await;
    assert!(
        body.starts_with("cb({\"id\":\"2\",") && body.ends_with(")"),
        "{body}"
    );
    let batch = encode(json!([
        {"id": 1, "method": "system.listMethods"},
        {"id": 2, "method": "aria2.getVersion", "params": [format!("token:{SECRET}")]},
    ]));
    let (status, body) = get(format!("params={}", urlencode(&batch))).await;
    let answers: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(answers[1]["result"]["version"], "1.37.0", "{body}");
    let (status, _) = get("method=aria2.getGlobalStat&id=3&params=%25%25".into()).await;
    assert_eq!(status, 400);
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

#[tokio::test]
async fn cors_preflights_are_answered_for_allowed_origins_and_foreign_pages_are_refused() {
    let (daemon, aria2) = daemon(&[]).await;
    let http = reqwest::Client::new();
    let preflight = http
        .request(reqwest::Method::OPTIONS, &aria2.url)
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let header = |name: &str| {
        preflight
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert_eq!(
        header("access-control-allow-methods").as_deref(),
        Some("POST, GET, OPTIONS")
    );
    assert_eq!(
        header("access-control-allow-headers").as_deref(),
        Some("content-type")
    );
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "system.listMethods"}).to_string();
    let allowed = http
        .post(&aria2.url)
        .header("Origin", ORIGIN)
        .header("Content-Type", "application/json")
        .body(call.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(allowed.status(), 200);
    let foreign = http
        .post(&aria2.url)
        .header("Origin", "http://evil.example")
        .body(call.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let rebinding = http
        .post(&aria2.url)
        .header("Host", "evil.example:6800")
        .body(call)
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), 403);
    drop(daemon);
}

#[tokio::test]
async fn aria2_shutdown_stops_the_daemon_cleanly() {
    let (mut daemon, aria2) = daemon(&[]).await;
    assert_eq!(aria2.result("aria2.shutdown", json!([])).await, "OK");
    for _ in 0..200 {
        if !daemon.is_running() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the daemon still runs after aria2.shutdown");
}

#[tokio::test]
async fn import_aria2_adds_a_saved_aria2_queue_and_names_the_entries_it_cannot_add() {
    let (daemon, _aria2) = daemon(&[]).await;
    let (server, data) = files().await;
    let root = daemon.root.canonicalize().unwrap();
    // What aria2 --save-session writes: URIs, then indented options.
    let session = format!(
        "{fast}\t{fast}\n gid=2089b05ecca3d829\n dir={root}/isos\n out=one.bin\n header=Authorization: Bearer from-aria2
\
         {slow}\n gid=aa89b05ecca3d829\n pause=true\n max-download-limit=100K\n\
         {fast}\n dir=/etc\n",
        fast = server.url("/fast.bin"),
        slow = server.url("/slow.bin"),
        root = root.display(),
    );
    let file = daemon.state.join("aria2.session");
    std::fs::write(&file, session).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .arg("import-aria2")
        .arg(&file)
        .arg("--dir")
        .arg(&daemon.root)
        .env("HAUL_URL", daemon.url())
        .env("HAUL_STATE_DIR", &daemon.state)
        .env_remove("HAUL_RPC_SECRET")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        !output.status.success(),
        "one entry cannot be added: {stdout}{stderr}"
    );
    assert!(stderr.contains("cannot add line 10"), "{stderr}");
    assert!(
        stderr.contains("/etc is outside haul's download root"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 of 3 downloads were not added"),
        "{stderr}"
    );
    let gids: Vec<&str> = stdout.lines().filter_map(|l| l.split(' ').nth(1)).collect();
    assert_eq!(gids.len(), 2, "{stdout}");
    let done = daemon.finished(gids[0]).await;
    assert_eq!(done["state"], "complete");
    assert_eq!(
        sha256_file(&daemon.root.join("isos/one.bin")),
        sha256(&data)
    );
    let sent = server.secrets("/fast.bin");
    assert_eq!(sent[0].authorization.as_deref(), Some("Bearer from-aria2"));
    let paused = daemon
        .result("download.status", json!({"gid": gids[1]}))
        .await;
    assert_eq!(
        (&paused["state"], &paused["speedLimit"]),
        (&json!("paused"), &json!(100 * 1024))
    );
}

#[tokio::test]
async fn tell_stopped_lists_downloads_in_the_order_they_stopped() {
    let (_daemon, aria2) = daemon(&[]).await;
    let (server, _) = files().await;
    let first = gid(&aria2
        .result("aria2.addUri", json!([[server.url("/slow.bin")]]))
        .await);
    let second = gid(&aria2
        .result("aria2.addUri", json!([[server.url("/fast.bin")]]))
        .await);
    aria2.status_until(&second, "complete").await;
    aria2.status_until(&first, "complete").await;
    let stopped = aria2
        .result("aria2.tellStopped", json!([0, 10, ["gid"]]))
        .await;
    assert_eq!(stopped, json!([{"gid": second}, {"gid": first}]));
    let latest = aria2
        .result("aria2.tellStopped", json!([-1, 1, ["gid"]]))
        .await;
    assert_eq!(latest, json!([{"gid": first}]), "the last one to stop");
}
