//! The simulator against a real kube-apiserver's answers (`../shared/vectors/apiserver/`, see its
//! README): every vector is replayed (with the workload simulator standing in for
//! kube-controller-manager) and compared in both tiers.
//!
//! The vectors the simulator does not reproduce yet are listed, with the reason, in
//! `tests/apiserver_vectors.gaps`. The test fails when a vector outside that list differs (a
//! regression) and when a listed one is reproduced (the list must shrink with the work), so the
//! list is always the truth; a vector whose reason starts with `flaky:` (a race the simulator
//! cannot rule out yet, said why) may go either way. `SLUICE_VECTORS_REPORT=1` prints every
//! difference.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod vectors;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use futures::StreamExt as _;
use sim::Sim;

/// How many vectors run at once (each in its own namespace).
const CONCURRENT: usize = 24;

fn gaps() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apiserver_vectors.gaps");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, why) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (id.to_owned(), why.trim().to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_answers_as_kube_apiserver_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/apiserver");
    let all = vectors::load(&dir);
    assert!(all.len() >= 200, "{} vectors in {}", all.len(), dir.display());
    let sim = Sim::start().await.unwrap();
    let workloads = sim::workloads::runner::spawn(sim.client().unwrap());
    let http = reqwest::Client::new();
    let base = sim.url();
    let results: Vec<(String, Vec<String>)> = futures::stream::iter(all.iter().enumerate())
        .map(|(i, vector)| {
            let (http, base) = (&http, base.as_str());
            async move {
                let ns = format!("vec-{:08x}", 0x1000_0000_u32 + u32::try_from(i).unwrap());
                let problems = match vectors::run::run(http, base, vector, &ns).await {
                    Ok((answer, last_rv)) => {
                        let expect = vectors::substitute(&vector.expect, &ns);
                        vectors::compare::differences(&expect, &answer, last_rv.as_deref(), &ns)
                    }
                    Err(setup) => vec![setup],
                };
                (vector.id.clone(), problems)
            }
        })
        .buffer_unordered(CONCURRENT)
        .collect()
        .await;
    workloads.abort();

    let report = std::env::var_os("SLUICE_VECTORS_REPORT").is_some();
    let known = gaps();
    let mut per_family: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut regressions = Vec::new();
    let mut fixed = Vec::new();
    let failing: BTreeSet<&str> = results
        .iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(id, _)| id.as_str())
        .collect();
    for (id, problems) in &results {
        let family = id.split('/').next().unwrap_or_default().to_owned();
        let entry = per_family.entry(family).or_default();
        entry.1 += 1;
        if problems.is_empty() {
            entry.0 += 1;
            if known.get(id).is_some_and(|why| !why.starts_with("flaky:")) {
                fixed.push(id.clone());
            }
        } else {
            if !known.contains_key(id) {
                regressions.push(format!("{id}:\n    {}", problems.join("\n    ")));
            }
            if report {
                println!("{id}:\n    {}", problems.join("\n    "));
            }
        }
    }
    let passed: usize = per_family.values().map(|(p, _)| p).sum();
    for (family, (ok, total)) in &per_family {
        println!("{family:<18} {ok:>3} / {total}");
    }
    println!("reproduced {passed} of {} vectors", results.len());
    let stale: Vec<&String> = known
        .keys()
        .filter(|id| !results.iter().any(|(r, _)| r == *id))
        .collect();
    assert!(
        stale.is_empty(),
        "listed in the gaps file but no such vector: {stale:?}"
    );
    assert!(
        regressions.is_empty(),
        "{} vectors differ that are not listed as gaps:\n{}",
        regressions.len(),
        regressions.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "reproduced now, remove from tests/apiserver_vectors.gaps: {fixed:?}"
    );
    let flaky = known.values().filter(|why| why.starts_with("flaky:")).count();
    assert!(failing.len() + flaky >= known.len() && failing.len() <= known.len());
}
