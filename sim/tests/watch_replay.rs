//! Property: whatever sequence of writes happens, replaying the watch history gives exactly what a
//! list returns, and resourceVersions strictly increase.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};
use sim::api::objects::{NewIdentity, Part, prepare_create, prepare_update};
use sim::api::registry::Registry;
use sim::api::store::{Propagation, Store};

#[derive(Clone, Debug)]
enum Op {
    Create(u8),
    Update(u8, u8),
    Delete(u8),
    AddFinalizer(u8),
    DropFinalizers(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6).prop_map(Op::Create),
        (0u8..6, any::<u8>()).prop_map(|(n, v)| Op::Update(n, v)),
        (0u8..6).prop_map(Op::Delete),
        (0u8..6).prop_map(Op::AddFinalizer),
        (0u8..6).prop_map(Op::DropFinalizers),
    ]
}

fn run(store: &mut Store, op: &Op) {
    let rt = Registry::default().find("", "v1", "configmaps").unwrap().clone();
    let name = |n: u8| format!("cm-{n}");
    match op {
        Op::Create(n) => {
            let id = NewIdentity {
                namespace: Some("default"),
                uid: format!("uid-{n}-{}", store.resource_version()),
                now: "t",
                suffix: "",
            };
            let obj = prepare_create(&rt, json!({"metadata": {"name": name(*n)}, "data": {}}), &id).unwrap();
            let _ = store.create(&rt, obj, false);
        }
        Op::Update(n, v) | Op::AddFinalizer(n @ v) | Op::DropFinalizers(n @ v) => {
            let Ok(old) = store.get(&rt, "default", &name(*n)) else {
                return;
            };
            let mut new = old.clone();
            match op {
                Op::Update(..) => new["data"] = json!({"v": v.to_string()}),
                Op::AddFinalizer(_) => new["metadata"]["finalizers"] = json!(["example.com/f"]),
                _ => new["metadata"]["finalizers"] = json!([]),
            }
            let prepared = prepare_update(&rt, &old, new, Part::Main).unwrap();
            store.replace(&rt, prepared, false).unwrap();
        }
        Op::Delete(n) => {
            let _ = store.delete(&rt, "default", &name(*n), Propagation::Background, false);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn list_equals_replay_of_watch_events(ops in proptest::collection::vec(op(), 1..60)) {
        let mut store = Store::new();
        let start = store.resource_version();
        for op in &ops {
            run(&mut store, op);
        }
        let events = store.events_since(start).unwrap();
        let mut replay: BTreeMap<String, Value> = BTreeMap::new();
        let mut last = start;
        for event in events.iter().filter(|e| e.plural == "configmaps") {
            prop_assert!(event.rv > last, "resourceVersions must strictly increase");
            last = event.rv;
            let name = event.object["metadata"]["name"].as_str().unwrap().to_owned();
            let rv_in_object: u64 = event.object["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
            prop_assert_eq!(rv_in_object, event.rv);
            match event.event_type {
                "DELETED" => { replay.remove(&name); }
                _ => { replay.insert(name, Value::clone(&event.object)); }
            }
        }
        let rt = Registry::default().find("", "v1", "configmaps").unwrap().clone();
        let listed: BTreeMap<String, Value> = store
            .list(&rt, Some("default"))
            .into_iter()
            .map(|o| (o["metadata"]["name"].as_str().unwrap().to_owned(), o))
            .collect();
        prop_assert_eq!(replay, listed);
    }
}
