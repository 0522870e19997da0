//! The same calls against a real `aria2c` and against haul's aria2 port,
//! answers compared by their HTTP status, keys and JSON types (values
//! differ: gids, paths, speeds), so haul's shapes are aria2's. Where they
//! differ on purpose, `DELIBERATE` says so and why.
#![cfg(feature = "server")]

use crate::support;

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use support::aria2::{Aria2Client, Aria2c, SECRET};
use support::daemon::Daemon;
use support::{random_bytes, Resource, TestServer};

/// What haul answers differently from aria2, and why; keyed by step.
const DELIBERATE: &[(&str, &str)] = &[
    (
        "bitfield",
        "no `bitfield` in any download: haul keeps finished byte ranges, not pieces",
    ),
    (
        "saveSession",
        "`OK` where aria2 without --save-session refuses: haul commits every change as it happens",
    ),
];

/// A value's shape: its JSON types, with objects' keys and arrays'
/// distinct element shapes.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => {
            let mut shapes: Vec<Value> = Vec::new();
            for item in items.iter().map(shape) {
                if !shapes.contains(&item) {
                    shapes.push(item);
                }
            }
            Value::Array(shapes)
        }
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> = map
                .iter()
                .filter(|(k, _)| k.as_str() != "bitfield")
                .map(|(k, v)| (k, shape(v)))
                .collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), v))
                    .collect::<Map<_, _>>(),
            )
        }
    }
}

/// One step's outcome: the status and the answer's shape (or, for option
/// maps, which aria2 fills with hundreds of options, the map itself).
#[derive(Debug)]
struct Step {
    name: &'static str,
    status: u16,
    answer: Value,
}

/// The sequence, run against one endpoint.
async fn run(aria2: &Aria2Client, server: &TestServer) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut step = |name, (status, answer): (u16, Value)| {
        let kept = answer.clone();
        steps.push(Step {
            name,
            status,
            answer,
        });
        kept
    };
    step(
        "getVersion",
        aria2.call("aria2.getVersion", json!([])).await,
    );
    step(
        "getGlobalStat",
        aria2.call("aria2.getGlobalStat", json!([])).await,
    );
    let added = step(
        "addUri",
        aria2
            .call(
                "aria2.addUri",
                json!([[server.url("/fast.bin")], {"pause": "true", "out": "d.bin"}]),
            )
            .await,
    );
    let gid = added["result"].as_str().unwrap().to_owned();
    step(
        "tellStatus paused",
        aria2.call("aria2.tellStatus", json!([gid])).await,
    );
    step(
        "tellWaiting",
        aria2.call("aria2.tellWaiting", json!([0, 10])).await,
    );
    step("getUris", aria2.call("aria2.getUris", json!([gid])).await);
    step(
        "getFiles paused",
        aria2.call("aria2.getFiles", json!([gid])).await,
    );
    step(
        "getOption",
        aria2.call("aria2.getOption", json!([gid])).await,
    );
    step(
        "changeOption",
        aria2
            .call(
                "aria2.changeOption",
                json!([gid, {"max-download-limit": "0"}]),
            )
            .await,
    );
    step(
        "pause paused",
        aria2.call("aria2.pause", json!([gid])).await,
    );
    step("unpause", aria2.call("aria2.unpause", json!([gid])).await);
    aria2.status_until(&gid, "complete").await;
    step(
        "tellStatus complete",
        aria2.call("aria2.tellStatus", json!([gid])).await,
    );
    step(
        "tellStopped",
        aria2.call("aria2.tellStopped", json!([0, 10])).await,
    );
    step(
        "getServers complete",
        aria2.call("aria2.getServers", json!([gid])).await,
    );
    step(
        "tellActive empty",
        aria2.call("aria2.tellActive", json!([])).await,
    );
    let slow = step(
        "addUri slow",
        aria2
            .call("aria2.addUri", json!([[server.url("/slow.bin")]]))
            .await,
    );
    let slow = slow["result"].as_str().unwrap().to_owned();
    aria2.status_until(&slow, "active").await;
    step(
        "tellActive keys",
        aria2
            .call(
                "aria2.tellActive",
                json!([["gid", "status", "completedLength"]]),
            )
            .await,
    );
    step(
        "getServers active",
        aria2.call("aria2.getServers", json!([slow])).await,
    );
    step("remove", aria2.call("aria2.remove", json!([slow])).await);
    aria2.status_until(&slow, "removed").await;
    step(
        "tellStopped backwards",
        aria2
            .call(
                "aria2.tellStopped",
                json!([-1, 1, ["gid", "status", "errorCode"]]),
            )
            .await,
    );
    step(
        "remove removed",
        aria2.call("aria2.remove", json!([slow])).await,
    );
    step(
        "tellStatus unknown",
        aria2
            .call("aria2.tellStatus", json!(["0123456789abcdef"]))
            .await,
    );
    step(
        "wrong token",
        aria2
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.getGlobalStat", "params": ["token:x"]}).to_string())
            .await,
    );
    step(
        "multicall",
        aria2
            .call(
                "system.multicall",
                json!([[
                    {"methodName": "aria2.getGlobalStat", "params": [format!("token:{SECRET}")]},
                    {"methodName": "aria2.getGlobalStat", "params": ["token:x"]},
                ]]),
            )
            .await,
    );
    step(
        "listMethods",
        aria2.call("system.listMethods", json!([])).await,
    );
    step(
        "listNotifications",
        aria2.call("system.listNotifications", json!([])).await,
    );
    step(
        "getGlobalOption",
        aria2.call("aria2.getGlobalOption", json!([])).await,
    );
    step(
        "changeGlobalOption",
        aria2
            .call(
                "aria2.changeGlobalOption",
                json!([{"max-concurrent-downloads": "5"}]),
            )
            .await,
    );
    step(
        "getSessionInfo",
        aria2.call("aria2.getSessionInfo", json!([])).await,
    );
    step(
        "removeDownloadResult",
        aria2.call("aria2.removeDownloadResult", json!([gid])).await,
    );
    step(
        "purgeDownloadResult",
        aria2.call("aria2.purgeDownloadResult", json!([])).await,
    );
    step(
        "saveSession",
        aria2.call("aria2.saveSession", json!([])).await,
    );
    step(
        "no id",
        aria2
            .post(r#"{"jsonrpc":"2.0","method":"aria2.getVersion"}"#)
            .await,
    );
    step("parse error", aria2.post("{").await);
    steps
}

#[tokio::test]
async fn haul_answers_the_same_calls_in_the_same_shapes_as_a_real_aria2c() {
    let dir = tempfile::tempdir().unwrap();
    let Some(reference) = Aria2c::start(dir.path()).await else {
        return;
    };
    let data = random_bytes(256 * 1024, 23);
    let server = TestServer::start([
        Resource::file("/fast.bin", data.clone()),
        Resource::file("/slow.bin", data).rate(32 * 1024),
    ])
    .await;
    let daemon =
        Daemon::start_with(&["--aria2-listen", "127.0.0.1:0", "--aria2-secret", SECRET]).await;
    let theirs = run(&Aria2Client::new(&reference.addr), &server).await;
    let ours = run(&Aria2Client::new(daemon.aria2.as_deref().unwrap()), &server).await;

    let mut differences = Vec::new();
    for (aria2, haul) in theirs.iter().zip(&ours) {
        let name = aria2.name;
        if DELIBERATE.iter().any(|(step, _)| *step == name) {
            continue;
        }
        if aria2.status != haul.status {
            differences.push(format!(
                "{name}: status {} (aria2) vs {} (haul)",
                aria2.status, haul.status
            ));
        }
        let (a, h) = (&aria2.answer, &haul.answer);
        if let Some(code) = a.pointer("/error/code") {
            if Some(code) != h.pointer("/error/code") {
                differences.push(format!("{name}: error {a} (aria2) vs {h} (haul)"));
            }
            continue;
        }
        if name.ends_with("Option") {
            // aria2 answers every option it has; haul those it maps, each
            // of which must be aria2's, with a string value.
            let (a, h) = (&a["result"], &h["result"]);
            for (key, value) in h.as_object().into_iter().flatten() {
                if a.get(key).is_none() || !value.is_string() {
                    differences.push(format!("{name}: option {key}={value} is not aria2's"));
                }
            }
            continue;
        }
        if shape(a) != shape(h) {
            differences.push(format!(
                "{name}:\n  aria2 {}\n  haul  {}",
                shape(a),
                shape(h)
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "haul differs from aria2c:\n{}",
        differences.join("\n")
    );
}
