//! Throughput and memory of the simulated API server, measured over HTTP with kube-rs and printed
//! (`cargo bench -p sim`). Numbers, not pass/fail: run it on a quiet machine and compare runs.

// A benchmark program: failing loudly on a broken setup is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::{StreamExt, future::join_all};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};
use kube::{Api, ResourceExt};
use sim::Sim;

const OBJECTS: usize = 10_000;
const WATCHERS: usize = 100;
const WATCHED_EVENTS: usize = 1_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn config_map(i: usize) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(format!("cm-{i:05}"));
    cm.metadata.labels = Some(BTreeMap::from([("bucket".to_owned(), (i % 100).to_string())]));
    cm.data = Some(BTreeMap::from([("payload".to_owned(), "x".repeat(256))]));
    cm
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

/// Memory of the store alone: objects written straight into a `Store`, no HTTP, no client.
fn store_memory() {
    use sim::api::objects::{NewIdentity, prepare_create};
    use sim::api::registry::Registry;
    use sim::api::store::Store;
    let rt = Registry::default().find("", "v1", "configmaps").unwrap().clone();
    let mut store = Store::new();
    let before = rss_kib();
    for i in 0..OBJECTS {
        let id = NewIdentity {
            namespace: Some("default"),
            uid: format!("{i:036}"),
            now: "2026-01-01T00:00:00Z",
            suffix: "",
        };
        let obj = prepare_create(&rt, serde_json::to_value(config_map(i)).unwrap(), &id).unwrap();
        store.create(&rt, obj, false).unwrap();
    }
    let after = rss_kib();
    #[allow(clippy::cast_precision_loss)]
    let per_thousand = after.saturating_sub(before) as f64 / (OBJECTS as f64 / 1000.0);
    println!("memory: {per_thousand:.0} KiB RSS per 1,000 objects in the store alone (object map plus watch history)");
}

#[tokio::main]
async fn main() {
    store_memory();
    let sim = Sim::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(sim.client().unwrap(), "default");

    // creates/s, from 8 concurrent clients.
    let rss_before = rss_kib();
    let started = crds::clock::stopwatch();
    let workers = (0..8).map(|w| {
        let api = api.clone();
        async move {
            for i in (w..OBJECTS).step_by(8) {
                api.create(&PostParams::default(), &config_map(i)).await.unwrap();
            }
        }
    });
    join_all(workers).await;
    let elapsed = started.elapsed();
    let rss_after = rss_kib();
    #[allow(clippy::cast_precision_loss)]
    let creates_per_sec = OBJECTS as f64 / elapsed.as_secs_f64();
    println!(
        "creates: {OBJECTS} ConfigMaps (256-byte payload) in {elapsed:.2?} = {creates_per_sec:.0} creates/s (8 concurrent clients)"
    );
    #[allow(clippy::cast_precision_loss)]
    let per_thousand = (rss_after.saturating_sub(rss_before)) as f64 / (OBJECTS as f64 / 1000.0);
    println!(
        "memory: {per_thousand:.0} KiB RSS per 1,000 objects created over HTTP (server and client in one process)"
    );

    // list latency with 10,000 objects.
    let mut full = Vec::new();
    for _ in 0..10 {
        let t = crds::clock::stopwatch();
        let list = api.list(&ListParams::default()).await.unwrap();
        assert_eq!(list.items.len(), OBJECTS);
        full.push(t.elapsed());
    }
    let mut selected = Vec::new();
    for _ in 0..10 {
        let t = crds::clock::stopwatch();
        let list = api.list(&ListParams::default().labels("bucket=7")).await.unwrap();
        assert_eq!(list.items.len(), OBJECTS / 100);
        selected.push(t.elapsed());
    }
    println!(
        "list: all {OBJECTS} objects p50 {:.1?} max {:.1?}; label selector (100 matches) p50 {:.1?}",
        percentile(&mut full, 0.5),
        percentile(&mut full, 1.0),
        percentile(&mut selected, 0.5)
    );

    // watch fan-out: 100 watchers each receive every one of 1,000 new objects.
    let rv = api
        .list(&ListParams::default().limit(1))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let watchers = (0..WATCHERS).map(|_| {
        let api = api.clone();
        let rv = rv.clone();
        tokio::spawn(async move {
            let mut stream = api
                .watch(&WatchParams::default().timeout(290), &rv)
                .await
                .unwrap()
                .boxed();
            let mut seen = 0;
            let mut last = crds::clock::stopwatch();
            while seen < WATCHED_EVENTS {
                match stream.next().await {
                    Some(Ok(WatchEvent::Added(cm))) if cm.name_any().starts_with("w-") => {
                        seen += 1;
                        last = crds::clock::stopwatch();
                    }
                    Some(Ok(_)) => {}
                    other => panic!("watch ended early: {other:?}"),
                }
            }
            last
        })
    });
    let watchers: Vec<_> = watchers.collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = crds::clock::stopwatch();
    for i in 0..WATCHED_EVENTS {
        let mut cm = config_map(i);
        cm.metadata.name = Some(format!("w-{i:04}"));
        api.create(&PostParams::default(), &cm).await.unwrap();
    }
    let writes_done = started.elapsed();
    let finished: Vec<Instant> = join_all(watchers).await.into_iter().map(Result::unwrap).collect();
    let all_delivered = finished.iter().max().unwrap().duration_since(started);
    #[allow(clippy::cast_precision_loss)]
    let deliveries = (WATCHERS * WATCHED_EVENTS) as f64 / all_delivered.as_secs_f64();
    println!(
        "watch fan-out: {WATCHERS} watchers x {WATCHED_EVENTS} events; writes took {writes_done:.2?}, last delivery after {all_delivered:.2?} = {deliveries:.0} deliveries/s"
    );
    sim.stop().await;
}
