//! The cluster coordinator's SQL against a real PostgreSQL (a private
//! server the tests start, or `HAUL_TEST_PG`): claims under concurrency,
//! leases against the reaper, fenced writes, the gap-free event log, the
//! per-host cap across nodes, graceful shutdown, the schema version.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use haul::cluster::{
    Asked, ClusterError, Coordinator, Desired, EventKind, Lease, Notice, Progress,
};
use haul::engine::{
    AddRequest, DownloadRecord, Failure, FailureCode, Gid, SavedSegment, SetCookie, State,
};

use crate::support::postgres::{self, TestDb};

/// Effectively no per-host cap.
const NO_CAP: u32 = 1 << 30;

fn gid(i: u64) -> Gid {
    format!("{:016x}", 0xc1u64 << 56 | i).parse().unwrap()
}

/// A queued download of `http://host{host}.test/{i}`.
fn queued(i: u64, host: u64) -> DownloadRecord {
    let request = AddRequest::new(format!("http://host{host}.test/{i}"));
    let mut record = DownloadRecord::new(gid(i), 0, State::Queued, request);
    // Whole microseconds, as timestamptz keeps them.
    record.created_at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + i);
    record
}

async fn node(db: &TestDb, name: &str) -> Coordinator {
    Coordinator::register(&db.url, name, Lease::new(Duration::from_secs(60)))
        .await
        .unwrap_or_else(|e| panic!("register {name}: {e}"))
}

/// Ends `node`'s lease now, by the database's clock, as if it had stopped
/// renewing long ago.
async fn expire(db: &tokio_postgres::Client, node: &Coordinator) {
    db.execute(
        "UPDATE nodes SET lease_until = now() - interval '1 second' WHERE id = $1",
        &[&node.node().0],
    )
    .await
    .unwrap();
}

async fn insert_all(coordinator: &Coordinator, records: impl IntoIterator<Item = DownloadRecord>) {
    for record in records {
        coordinator.insert(&record).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_claimers_claim_every_download_exactly_once_per_epoch() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let mut nodes = Vec::new();
    for i in 0..8 {
        nodes.push(Arc::new(node(&db, &format!("n{i}")).await));
    }
    insert_all(&nodes[0], (0..200).map(|i| queued(i, i % 7))).await;
    let mut claimed: Vec<(Gid, i64, i64)> = Vec::new();
    for round in 1..=2i64 {
        let mut tasks = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            let node = node.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                // Small batches of different sizes, until a claim finds
                // nothing: rows another claimer holds are skipped, not
                // waited for, so an empty claim means nothing is queued.
                loop {
                    let claims = node.claim(1 + i % 4, NO_CAP).await.unwrap();
                    if claims.is_empty() {
                        return mine;
                    }
                    mine.extend(claims.into_iter().map(|c| (c.record.gid, c.epoch)));
                }
            }));
        }
        let mut this_round = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            for (gid, epoch) in task.await.unwrap() {
                this_round.push((gid, epoch, nodes[i].node().0));
            }
        }
        // Anything left is queued and claimable: claim what was missed.
        let leftover = nodes[0].claim(1000, NO_CAP).await.unwrap();
        assert!(leftover.is_empty(), "left queued: {leftover:?}");
        let gids: BTreeSet<Gid> = this_round.iter().map(|c| c.0).collect();
        assert_eq!(
            this_round.len(),
            200,
            "round {round}: one claim per download"
        );
        assert_eq!(gids.len(), 200, "round {round}: no download claimed twice");
        assert!(
            this_round.iter().all(|c| c.1 == round),
            "round {round}: every claim is of epoch {round}"
        );
        // The database agrees on who owns what.
        let owners: HashMap<Gid, i64> = this_round.iter().map(|c| (c.0, c.2)).collect();
        for download in nodes[0].downloads().await.unwrap() {
            assert_eq!(download.record.state, State::Active);
            assert_eq!(download.epoch, round);
            assert_eq!(
                download.owner.map(|n| n.0),
                owners.get(&download.record.gid).copied()
            );
        }
        claimed.extend(this_round.iter().copied());
        if round == 1 {
            // Everyone gives theirs back, for a second round of claims.
            for (gid, epoch, owner) in &this_round {
                let node = nodes.iter().find(|n| n.node().0 == *owner).unwrap();
                node.release(*gid, *epoch).await.unwrap();
            }
        }
    }
    let pairs: BTreeSet<(Gid, i64)> = claimed.iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        pairs.len(),
        claimed.len(),
        "never one download twice in one epoch"
    );
    // 200 added, 200 started, 200 queued again, 200 started.
    let events = nodes[0].events_since(0, 10_000).await.unwrap();
    assert_eq!(events.len(), 800);
    assert!(events.iter().zip(1..).all(|(e, n)| e.cluster_seq == n));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_racing_a_reaper_has_exactly_one_winner() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let sql = db.client().await;
    let reaper = node(&db, "reaper").await;
    let (mut renewed, mut reaped) = (0, 0);
    for round in 0..40u64 {
        let victim = node(&db, &format!("victim{round}")).await;
        insert_all(&reaper, [queued(2 * round, 0), queued(2 * round + 1, 1)]).await;
        let claims = victim.claim(2, NO_CAP).await.unwrap();
        assert_eq!(claims.len(), 2);
        // The lease ends around now: from 30 ms ago to 30 ms ahead.
        let offset_ms = (round * 37 % 61) as f64 - 30.0;
        sql.execute(
            "UPDATE nodes SET lease_until = now() + $2 * interval '1 millisecond' WHERE id = $1",
            &[&victim.node().0, &offset_ms],
        )
        .await
        .unwrap();
        let (renewal, reap) = tokio::join!(victim.renew(), reaper.reap());
        let reap = reap.unwrap();
        let victim_reaped = reap.nodes.contains(&victim.node());
        match renewal {
            Ok(()) => {
                renewed += 1;
                assert!(!victim_reaped, "round {round}: renewed and reaped");
                for claim in &claims {
                    let row = victim.download(claim.record.gid).await.unwrap().unwrap();
                    assert_eq!(
                        row.owner,
                        Some(victim.node()),
                        "round {round}: still the victim's"
                    );
                    assert_eq!(row.record.state, State::Active);
                }
            }
            Err(ClusterError::LeaseLost { node }) => {
                reaped += 1;
                assert_eq!(node, victim.node());
                assert!(!victim.may_write(), "a lost lease allows no write");
                // The racing reap may have started before the lease ran out
                // by its clock: then the next one takes the node.
                if !victim_reaped {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let again = reaper.reap().await.unwrap();
                    assert_eq!(again.nodes, [victim.node()], "round {round}");
                }
                for claim in &claims {
                    let row = victim.download(claim.record.gid).await.unwrap().unwrap();
                    assert_eq!(row.owner, None, "round {round}: requeued");
                    assert_eq!(row.record.state, State::Queued);
                }
                assert!(matches!(
                    victim.renew().await,
                    Err(ClusterError::LeaseLost { .. })
                ));
            }
            Err(e) => panic!("round {round}: {e}"),
        }
        // The reaper only ever takes the victim, and only when it lost.
        assert!(reap.nodes.iter().all(|n| *n == victim.node()));
        // Leave no owned downloads behind for the next round.
        if victim.may_write() {
            victim.graceful_shutdown().await.unwrap();
        }
        reaper.claim(100, NO_CAP).await.unwrap();
    }
    eprintln!("renewed {renewed}, reaped {reaped}");
    assert!(
        renewed > 0 && reaped > 0,
        "both outcomes happen: {renewed} / {reaped}"
    );
}

/// A record with every field set, as the engine writes one mid-download.
fn checkpointed(mut record: DownloadRecord, completed: u64) -> DownloadRecord {
    record.file_name = Some("big.iso".into());
    record.path = Some(PathBuf::from("/srv/haul/big.iso"));
    record.total_length = Some(1000);
    record.completed_length = completed;
    record.etag = Some("\"v1\"".into());
    record.last_modified = Some("Wed, 21 Oct 2015 07:28:00 GMT".into());
    record.if_range = Some("\"v1\"".into());
    record.segments = vec![
        SavedSegment {
            start: 0,
            pos: completed / 2,
            end: 500,
        },
        SavedSegment {
            start: 500,
            pos: 500 + completed / 2,
            end: 1000,
        },
    ];
    record.server_cookies = vec![SetCookie {
        url: record.request.url.clone(),
        header: "session=abc; Path=/".into(),
    }];
    record.request.connections = Some(4);
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_write_after_takeover_is_refused_and_changes_nothing() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let sql = db.client().await;
    let (a, b) = (node(&db, "a").await, node(&db, "b").await);
    a.insert(&queued(1, 0)).await.unwrap();
    let [first] = &a.claim(10, NO_CAP).await.unwrap()[..] else {
        panic!("one claim");
    };
    assert_eq!(first.epoch, 1);
    a.save(&checkpointed(first.record.clone(), 100), 1)
        .await
        .unwrap();

    expire(&sql, &a).await;
    let reaped = b.reap().await.unwrap();
    assert_eq!(reaped.nodes, [a.node()]);
    assert_eq!(reaped.changes.len(), 1);
    assert_eq!(reaped.changes[0].kind, EventKind::Queued);
    let [second] = &b.claim(10, NO_CAP).await.unwrap()[..] else {
        panic!("b takes it over");
    };
    assert_eq!(second.epoch, 2);
    assert_eq!(
        second.record.completed_length, 100,
        "from a's last checkpoint"
    );
    let before = b.download(second.record.gid).await.unwrap().unwrap();

    // Everything a still tries is refused, and changes nothing.
    let stale = checkpointed(first.record.clone(), 900);
    let mut finished = stale.clone();
    finished.state = State::Complete;
    for (what, result) in [
        ("checkpoint", a.save(&stale, 1).await.map(|_| ())),
        ("complete", a.save(&finished, 1).await.map(|_| ())),
        ("release", a.release(stale.gid, 1).await.map(|_| ())),
        ("delete", a.delete(stale.gid, 1).await.map(|_| ())),
    ] {
        match result {
            Err(ClusterError::Fenced { gid, node, epoch }) => {
                assert_eq!((gid, node, epoch), (stale.gid, a.node(), 1), "{what}");
            }
            other => panic!("{what} by the old owner: {other:?}"),
        }
    }
    assert_eq!(b.download(stale.gid).await.unwrap().unwrap(), before);
    assert!(matches!(
        a.renew().await,
        Err(ClusterError::LeaseLost { .. })
    ));

    // The new owner's writes go through, and read back identical.
    let mut record = checkpointed(second.record.clone(), 600);
    let saved = b.save(&record, 2).await.unwrap();
    assert_eq!(saved.cluster_seq, None, "a checkpoint is no state change");
    let row = b.download(record.gid).await.unwrap().unwrap();
    assert_eq!(row.record, record);
    assert_eq!((row.owner, row.epoch), (Some(b.node()), 2));
    record.state = State::Error;
    record.error = Some(Failure::new(FailureCode::HttpStatus, "404 Not Found"));
    let saved = b.save(&record, 2).await.unwrap();
    let failed = b.events_since(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(Some(failed.cluster_seq), saved.cluster_seq);
    assert_eq!(failed.kind, EventKind::Error);
    assert_eq!(failed.payload.error_code.as_deref(), Some("http-status"));
    let row = b.download(record.gid).await.unwrap().unwrap();
    assert_eq!(row.record, record);
    assert_eq!(row.owner, None, "a download that stopped has no owner");
    assert!(b.save(&record, 2).await.unwrap_err().is_fenced());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_sequence_numbers_are_gap_free_and_commit_in_order_under_concurrency() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let mut nodes = Vec::new();
    for i in 0..4 {
        nodes.push(Arc::new(node(&db, &format!("n{i}")).await));
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A reader polls the log all along: each read must continue exactly
    // where the last one ended. A number committed after a higher one
    // would show as a hole that fills later.
    let reader = {
        let (node, done) = (nodes[0].clone(), done.clone());
        tokio::spawn(async move {
            let mut last = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                for event in node.events_since(last, 1000).await.unwrap() {
                    assert_eq!(event.cluster_seq, last + 1, "a hole after {last}");
                    last = event.cluster_seq;
                }
                if finished {
                    return last;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let mut writers = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        let node = node.clone();
        writers.push(tokio::spawn(async move {
            let n = n as u64;
            for i in 0..25 {
                node.insert(&queued(n * 100 + i, i % 3)).await.unwrap();
                // A failed insert is rolled back, number and all.
                let again = node.insert(&queued(n * 100 + i, 0)).await;
                assert!(matches!(again, Err(ClusterError::Duplicate { .. })));
            }
            // Run whatever this node gets: complete even ones, fail odd
            // ones, pause a few of the queued ones.
            loop {
                let claims = node.claim(2, NO_CAP).await.unwrap();
                if claims.is_empty() {
                    break;
                }
                for claim in claims {
                    let mut record = claim.record;
                    record.state = match record.seq % 2 {
                        0 => State::Complete,
                        _ => State::Error,
                    };
                    let saved = node.save(&record, claim.epoch).await.unwrap();
                    assert!(saved.cluster_seq.is_some());
                }
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let last = reader.await.unwrap();
    // 100 added, 100 started, 100 complete or error.
    assert_eq!(last, 300);
    let events = nodes[1].events_since(0, 1000).await.unwrap();
    let numbers: Vec<i64> = events.iter().map(|e| e.cluster_seq).collect();
    assert_eq!(numbers, (1..=300).collect::<Vec<i64>>());
    // Each download's events are in the order of its changes.
    let mut kinds: BTreeMap<Gid, Vec<EventKind>> = BTreeMap::new();
    for event in &events {
        kinds.entry(event.gid).or_default().push(event.kind);
    }
    for (gid, kinds) in kinds {
        assert_eq!(kinds.len(), 3, "{gid}: {kinds:?}");
        assert_eq!(kinds[..2], [EventKind::Added, EventKind::Started], "{gid}");
        assert!(matches!(kinds[2], EventKind::Complete | EventKind::Error));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reap_honours_a_pause_or_remove_asked_meanwhile() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let sql = db.client().await;
    let (a, b) = (node(&db, "a").await, node(&db, "b").await);
    let (_listener, mut notices) = a.listen(64).await.unwrap();
    insert_all(&b, (1..=3).map(|i| queued(i, 0))).await;
    assert_eq!(a.claim(3, NO_CAP).await.unwrap().len(), 3);
    b.insert(&queued(4, 0)).await.unwrap();

    assert_eq!(
        b.set_desired(gid(1), Desired::Pause).await.unwrap(),
        Asked::Owner(a.node())
    );
    assert_eq!(
        b.set_desired(gid(2), Desired::Remove).await.unwrap(),
        Asked::Owner(a.node())
    );
    // A pause after a remove does not undo the remove.
    b.set_desired(gid(2), Desired::Pause).await.unwrap();
    // Nobody runs 4: paused at once.
    match b.set_desired(gid(4), Desired::Pause).await.unwrap() {
        Asked::Done(Some(change)) => assert_eq!(change.kind, EventKind::Paused),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        b.download(gid(4)).await.unwrap().unwrap().record.state,
        State::Paused
    );

    // The owner is told at once, and can read it back after a lost listener.
    let mut told = Vec::new();
    while told.len() < 3 {
        let notice = tokio::time::timeout(Duration::from_secs(10), notices.recv())
            .await
            .expect("the owner is told in time")
            .expect("the listener goes on");
        if let Notice::Desired { gid, desired } = notice {
            told.push((gid, desired));
        }
    }
    assert_eq!(
        told,
        [
            (gid(1), Desired::Pause),
            (gid(2), Desired::Remove),
            (gid(2), Desired::Remove)
        ]
    );
    assert_eq!(
        a.desired_of_mine().await.unwrap(),
        [(gid(1), Desired::Pause), (gid(2), Desired::Remove)]
    );

    // a dies before it acts: the reaper does what was asked.
    expire(&sql, &a).await;
    let reaped = b.reap().await.unwrap();
    let kinds: BTreeMap<Gid, EventKind> = reaped.changes.iter().map(|c| (c.gid, c.kind)).collect();
    assert_eq!(
        kinds,
        BTreeMap::from([
            (gid(1), EventKind::Paused),
            (gid(2), EventKind::Removed),
            (gid(3), EventKind::Queued),
        ])
    );
    let left: BTreeMap<Gid, (State, Option<Desired>)> = b
        .downloads()
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.record.gid, (d.record.state, d.desired)))
        .collect();
    assert_eq!(
        left,
        BTreeMap::from([
            (gid(1), (State::Paused, None)),
            (gid(3), (State::Queued, None)),
            (gid(4), (State::Paused, None)),
        ])
    );
    // Only the queued one is claimable.
    let claims = b.claim(10, NO_CAP).await.unwrap();
    assert_eq!(
        claims.iter().map(|c| c.record.gid).collect::<Vec<_>>(),
        [gid(3)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_host_cap_holds_across_nodes_in_claims() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let sql = db.client().await;
    const CAP: u32 = 16;
    let mut nodes = Vec::new();
    for i in 0..4 {
        nodes.push(Arc::new(node(&db, &format!("n{i}")).await));
    }
    // Host 0: 30 downloads of 4 connections; host 1: 10 of 6.
    let mut records = Vec::new();
    for i in 0..40 {
        let mut record = queued(i, u64::from(i >= 30));
        record.request.connections = Some(if i < 30 { 4 } else { 6 });
        records.push(record);
    }
    insert_all(&nodes[0], records).await;
    let mut tasks = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let node = node.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claims = node.claim(3, CAP).await.unwrap();
                if claims.is_empty() {
                    return mine;
                }
                mine.extend(claims.into_iter().map(|c| (i, c)));
            }
        }));
    }
    let mut owners = Vec::new();
    for task in tasks {
        owners.extend(task.await.unwrap());
    }
    let claims: Vec<_> = owners.iter().map(|(_, c)| c.clone()).collect();
    let granted = |host: &str| -> u32 {
        claims
            .iter()
            .filter(|c| c.record.request.url.contains(host))
            .map(|c| c.host_connections)
            .sum()
    };
    assert_eq!(granted("host0.test"), CAP, "four downloads of four");
    // Two of six, then the four connections left to a third.
    assert_eq!(granted("host1.test"), CAP);
    let mut host1: Vec<u32> = claims
        .iter()
        .filter(|c| c.record.request.url.contains("host1.test"))
        .map(|c| c.host_connections)
        .collect();
    host1.sort();
    assert_eq!(host1, [4, 6, 6]);
    let counted = |host: &'static str| {
        let sql = &sql;
        async move {
            let row = sql
                .query_one("SELECT connections FROM hosts WHERE host = $1", &[&host])
                .await
                .unwrap();
            row.get::<_, i32>(0)
        }
    };
    assert_eq!(counted("host0.test:80").await, 16);
    assert_eq!(counted("host1.test:80").await, 16);

    // A download that ends gives its connections back to the next claim.
    let (owner, done) = owners
        .iter()
        .find(|(_, c)| c.record.request.url.contains("host0.test"))
        .unwrap();
    let owner = &nodes[*owner];
    let mut record = done.record.clone();
    record.state = State::Complete;
    owner.save(&record, done.epoch).await.unwrap();
    assert_eq!(counted("host0.test:80").await, 12);
    let next = nodes[3].claim(10, CAP).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].host_connections, 4);
    assert!(next[0].record.request.url.contains("host0.test"));
    assert_eq!(counted("host0.test:80").await, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn may_write_turns_false_by_the_local_clock_before_the_server_side_lease_expires() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let sql = db.client().await;
    let lease = Lease {
        length: Duration::from_secs(2),
        margin: Duration::from_millis(500),
    };
    let a = Coordinator::register(&db.url, "a", lease).await.unwrap();
    let b = node(&db, "b").await;
    assert!(a.may_write());
    // A renewal moves the deadline on.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    a.renew().await.unwrap();
    let renewed = Instant::now();
    while a.may_write() {
        assert!(
            renewed.elapsed() < Duration::from_secs(2),
            "may_write outlived the lease"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        renewed.elapsed() >= Duration::from_millis(1400),
        "not before the margin"
    );
    // By the database's clock the lease still holds: nobody may take a's
    // downloads yet, and a already stopped writing.
    let still: bool = sql
        .query_one(
            "SELECT lease_until > now() FROM nodes WHERE id = $1",
            &[&a.node().0],
        )
        .await
        .unwrap()
        .get(0);
    assert!(still, "the server-side lease outlasts the local one");
    assert!(b.reap().await.unwrap().nodes.is_empty());
    // Once it ran out there, the node is reaped and cannot renew.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(b.reap().await.unwrap().nodes, [a.node()]);
    assert!(matches!(
        a.renew().await,
        Err(ClusterError::LeaseLost { .. })
    ));
    assert!(!a.may_write());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_releases_its_downloads_at_once() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let (a, b) = (node(&db, "a").await, node(&db, "b").await);
    insert_all(&b, (1..=3).map(|i| queued(i, 0))).await;
    assert_eq!(a.claim(3, NO_CAP).await.unwrap().len(), 3);
    b.set_desired(gid(2), Desired::Pause).await.unwrap();
    assert!(b.claim(10, NO_CAP).await.unwrap().is_empty(), "all a's");

    let started = Instant::now();
    let changes = a.graceful_shutdown().await.unwrap();
    let kinds: Vec<(Gid, EventKind)> = changes.iter().map(|c| (c.gid, c.kind)).collect();
    assert_eq!(
        kinds,
        [
            (gid(1), EventKind::Queued),
            (gid(2), EventKind::Paused),
            (gid(3), EventKind::Queued)
        ]
    );
    assert!(!a.may_write());
    // b goes on at once, not a 60 s lease later.
    let claims = b.claim(10, NO_CAP).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let taken: Vec<(Gid, i64)> = claims.iter().map(|c| (c.record.gid, c.epoch)).collect();
    assert_eq!(taken, [(gid(1), 2), (gid(3), 2)]);
    assert!(
        b.reap().await.unwrap().nodes.is_empty(),
        "nothing left to reap"
    );
    assert!(matches!(
        a.renew().await,
        Err(ClusterError::LeaseLost { .. })
    ));
    assert!(matches!(
        a.claim(1, NO_CAP).await,
        Err(ClusterError::LeaseLost { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_and_event_notifications_reach_another_node_under_the_payload_limit() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let (a, b) = (node(&db, "a").await, node(&db, "b").await);
    let (_listener, mut notices) = a.listen(1024).await.unwrap();
    let progress: Vec<Progress> = (0..500)
        .map(|i| Progress {
            gid: gid(i).to_string(),
            completed_length: i * 12_345,
            total_length: Some(1 << 33),
            download_speed: 7_000_000,
            connections: 16,
        })
        .collect();
    let sent = b.publish_progress(&progress).await.unwrap();
    assert!(sent > 1, "500 items take several notifications");
    let inserted = b.insert(&queued(1, 0)).await.unwrap();
    let mut seen = Vec::new();
    let mut batches = 0;
    loop {
        let notice = tokio::time::timeout(Duration::from_secs(10), notices.recv())
            .await
            .expect("notified in time")
            .expect("the listener goes on");
        match notice {
            Notice::Progress { node, progress } => {
                assert_eq!(node, b.node());
                batches += 1;
                seen.extend(progress);
            }
            Notice::Events { upto } => {
                assert_eq!(upto, inserted.cluster_seq);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(batches, sent);
    // PostgreSQL refuses a payload of 8000 bytes or more: every batch fit.
    assert_eq!(seen, progress, "every item once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_a_newer_schema_is_refused_with_a_clear_error() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let sql = db.client().await;
    node(&db, "first").await;
    sql.execute("UPDATE schema_version SET version = 99", &[])
        .await
        .unwrap();
    let refused =
        Coordinator::register(&db.url, "second", Lease::new(Duration::from_secs(5))).await;
    match refused {
        Err(e @ ClusterError::SchemaTooNew { found: 99, .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("schema version 99, newer than this haul understands"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing was registered or changed.
    let nodes: i64 = sql
        .query_one("SELECT count(*) FROM nodes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(nodes, 1);
}

/// The benchmark of `bench/cluster-sql.sh` (ignored in the suite): how many
/// downloads a cluster's nodes add, claim and finish per second through one
/// PostgreSQL, each a state change with its numbered event. Four nodes
/// claim concurrently in batches of 8 and finish what they claimed with one
/// fenced save each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a benchmark: bench/cluster-sql.sh"]
async fn claims_and_state_events_per_second_through_postgresql() {
    let Some(db) = postgres::database().await else {
        return;
    };
    const DOWNLOADS: u64 = 4000;
    const NODES: usize = 4;
    let mut nodes = Vec::new();
    for i in 0..NODES {
        nodes.push(Arc::new(node(&db, &format!("bench{i}")).await));
    }
    let started = Instant::now();
    let mut adders = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        let node = node.clone();
        adders.push(tokio::spawn(async move {
            let mine = (0..DOWNLOADS).filter(|i| *i as usize % NODES == n);
            insert_all(&node, mine.map(|i| queued(i, i % 50))).await;
        }));
    }
    for adder in adders {
        adder.await.unwrap();
    }
    let added = started.elapsed();

    let started = Instant::now();
    let mut workers = Vec::new();
    for node in &nodes {
        let node = node.clone();
        workers.push(tokio::spawn(async move {
            let (mut claimed, mut claiming, mut finishing) = (0, Duration::ZERO, Duration::ZERO);
            loop {
                let at = Instant::now();
                let claims = node.claim(8, NO_CAP).await.unwrap();
                claiming += at.elapsed();
                if claims.is_empty() {
                    return (claimed, claiming, finishing);
                }
                claimed += claims.len();
                let at = Instant::now();
                for claim in claims {
                    let mut record = claim.record;
                    record.state = State::Complete;
                    node.save(&record, claim.epoch).await.unwrap();
                }
                finishing += at.elapsed();
            }
        }));
    }
    let (mut claimed, mut claiming, mut finishing) = (0, Duration::ZERO, Duration::ZERO);
    for worker in workers {
        let (c, a, b) = worker.await.unwrap();
        claimed += c;
        claiming += a;
        finishing += b;
    }
    let worked = started.elapsed();
    assert_eq!(claimed as u64, DOWNLOADS);
    let events = db
        .client()
        .await
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(events as u64, DOWNLOADS * 3, "added, started, complete");
    let rate = |n: f64, d: Duration| n / d.as_secs_f64();
    println!("nodes {NODES}, downloads {DOWNLOADS}, one PostgreSQL");
    println!(
        "adds/s (insert + event)           {:>9.0}",
        rate(DOWNLOADS as f64, added)
    );
    println!(
        "claims/s (batches of 8)           {:>9.0}   (time in claim calls: {:.0}/s per node)",
        rate(DOWNLOADS as f64, worked),
        rate(DOWNLOADS as f64 / NODES as f64, claiming / NODES as u32)
    );
    println!(
        "state events/s, all kinds         {:>9.0}   (fenced saves: {:.0}/s per node)",
        rate((DOWNLOADS * 2) as f64, worked),
        rate(DOWNLOADS as f64 / NODES as f64, finishing / NODES as u32)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_from_any_node_requeues_a_stopped_download_and_withdraws_a_pending_pause() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let (a, b) = (node(&db, "a").await, node(&db, "b").await);
    insert_all(&a, (1..=3).map(|i| queued(i, 0))).await;
    let claims = a.claim(3, NO_CAP).await.unwrap();
    assert_eq!(claims.len(), 3);
    let epoch_of = |g: Gid| claims.iter().find(|c| c.record.gid == g).unwrap().epoch;
    // 1 fails with bytes kept; 2 is paused by its owner; 3 runs on.
    let mut failed = checkpointed(claims[0].record.clone(), 300);
    failed.state = State::Error;
    failed.error = Some(Failure::new(FailureCode::HttpStatus, "503 from the server"));
    a.save(&failed, epoch_of(gid(1))).await.unwrap();
    let mut paused = claims[1].record.clone();
    paused.state = State::Paused;
    a.save(&paused, epoch_of(gid(2))).await.unwrap();

    for g in [gid(1), gid(2)] {
        let change = b.resume(g).await.unwrap().expect("a state change");
        assert_eq!(change.kind, EventKind::Queued);
        let back = b.download(g).await.unwrap().unwrap().record;
        assert_eq!(back.state, State::Queued);
        assert_eq!(back.error, None);
    }
    let kept = b.download(gid(1)).await.unwrap().unwrap().record;
    assert_eq!(kept.completed_length, 300, "the bytes kept stay");
    // Resumed, they are anyone's to claim, under a new epoch.
    let again = b.claim(2, NO_CAP).await.unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|c| c.epoch == 2));

    // A pause asked of 3 and not yet carried out is withdrawn by a resume.
    assert_eq!(
        b.set_desired(gid(3), Desired::Pause).await.unwrap(),
        Asked::Owner(a.node())
    );
    assert_eq!(b.resume(gid(3)).await.unwrap(), None);
    assert_eq!(a.desired_of_mine().await.unwrap(), vec![]);
    // A complete download cannot be resumed.
    let mut done = claims[2].record.clone();
    done.state = State::Complete;
    a.save(&done, epoch_of(gid(3))).await.unwrap();
    assert!(matches!(
        b.resume(gid(3)).await,
        Err(ClusterError::InvalidState {
            state: State::Complete,
            ..
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_keeps_the_latest_events_and_the_numbering_goes_on_without_a_gap() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let a = node(&db, "a").await;
    insert_all(&a, (1..=10).map(|i| queued(i, 0))).await;
    assert_eq!(a.prune_events(4).await.unwrap(), 6);
    let kept: Vec<i64> = a
        .events_since(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.cluster_seq)
        .collect();
    assert_eq!(kept, [7, 8, 9, 10]);
    a.insert(&queued(11, 0)).await.unwrap();
    let next = a.events_since(10, 100).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].cluster_seq, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_adds_commits_at_once_in_order_and_a_duplicate_is_refused_alone() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let a = node(&db, "a").await;
    a.insert(&queued(2, 0)).await.unwrap();
    let records: Vec<DownloadRecord> = [1, 2, 3].into_iter().map(|i| queued(i, 0)).collect();
    let answers = a.insert_many(&records).await.unwrap();
    assert_eq!(answers.len(), 3);
    assert!(
        matches!(answers[1], Err(ClusterError::Duplicate { gid }) if gid == records[1].gid),
        "{:?}",
        answers[1]
    );
    let (first, third) = (answers[0].as_ref().unwrap(), answers[2].as_ref().unwrap());
    assert!(
        first.seq < third.seq,
        "the queue's order is the adds' order"
    );
    assert_eq!(
        third.cluster_seq,
        first.cluster_seq + 1,
        "gap-free, in order"
    );
    let events = a.events_since(0, 10).await.unwrap();
    let added: Vec<(Gid, i64)> = events
        .iter()
        .filter(|e| e.kind == EventKind::Added)
        .map(|e| (e.gid, e.cluster_seq))
        .collect();
    assert_eq!(
        added,
        [
            (records[1].gid, 1),
            (records[0].gid, first.cluster_seq),
            (records[2].gid, third.cluster_seq)
        ]
    );
}
