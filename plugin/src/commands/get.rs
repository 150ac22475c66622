//! `get rollout NAME [-w]` and `list rollouts [-A] [-w]`: the tree view and the table, redrawn in
//! place as watch events arrive (no polling) until Ctrl-C.

use std::fmt::Write as _;
use std::io::Write as _;

use crds::Rollout;
use futures::StreamExt;
use kube::{Api, Client};
use plugin::family::Family;
use plugin::view::{Inputs, build, render};
use plugin::watch::{Watched, reflect};

use super::objects;
use crate::cli::Output;
use crate::cluster::CliError;

/// Prints a value as JSON or YAML.
///
/// # Errors
/// Serialization failures.
pub fn print_as<T: serde::Serialize>(value: &T, output: Output) -> Result<(), CliError> {
    let text = match output {
        Output::Json => serde_json::to_string_pretty(value).map_err(|e| CliError::Other(e.to_string()))? + "\n",
        Output::Yaml => crds::yaml::to_string(value).map_err(|e| CliError::Other(e.to_string()))?,
    };
    print!("{text}");
    Ok(())
}

fn clear_and_print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "\x1b[H\x1b[2J{text}");
    let _ = out.flush();
}

/// Renders one Rollout from its objects.
#[must_use]
pub fn render_family(family: &Family, colour: bool) -> String {
    render(&family.view(crds::clock::system().now()), colour)
}

/// `get rollout NAME [-w]`.
///
/// # Errors
/// Not found, API failures.
pub async fn rollout(
    client: &Client,
    namespace: &str,
    name: &str,
    watch: bool,
    output: Option<Output>,
    colour: bool,
) -> Result<(), CliError> {
    let family = objects::read_family(client, namespace, name).await?;
    if let Some(output) = output {
        return print_as(&family.rollout, output);
    }
    if !watch {
        print!("{}", render_family(&family, colour));
        return Ok(());
    }
    let mut watched = Watched::start(client, namespace);
    let mut last = String::new();
    loop {
        tokio::select! {
            changed = watched.changed() => {
                if !changed {
                    return Ok(());
                }
                let Some(family) = watched.family(name) else { continue };
                let text = render_family(&family, colour);
                if text != last {
                    clear_and_print(&text);
                    last = text;
                }
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn table(rollouts: &[std::sync::Arc<Rollout>], all: bool) -> String {
    let mut rows = vec![vec![
        "NAME".to_string(),
        "STRATEGY".into(),
        "STATUS".into(),
        "STEP".into(),
        "SET-WEIGHT".into(),
        "READY".into(),
        "DESIRED".into(),
        "UP-TO-DATE".into(),
        "AVAILABLE".into(),
    ]];
    if all {
        rows[0].insert(0, "NAMESPACE".into());
    }
    let mut sorted: Vec<&Rollout> = rollouts.iter().map(AsRef::as_ref).collect();
    sorted.sort_by(|a, b| (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name)));
    for r in sorted {
        let view = build(&Inputs {
            rollout: r,
            replicasets: &[],
            pods: &[],
            runs: &[],
            now: crds::clock::system().now(),
        });
        let h = view.header;
        let r = h.replicas;
        let mut row = vec![
            h.name,
            h.strategy.to_string(),
            h.status.phase,
            h.step.map_or("-".into(), |s| format!("{}/{}", s.index, s.count)),
            h.set_weight.map_or("-".into(), |w| w.to_string()),
            format!("{}/{}", r.ready, r.desired),
            r.desired.to_string(),
            r.updated.to_string(),
            r.available.to_string(),
        ];
        if all {
            row.insert(0, h.namespace);
        }
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// `list rollouts [-A] [-w]`.
///
/// # Errors
/// API failures.
pub async fn list(
    client: &Client,
    namespace: &str,
    all: bool,
    watch: bool,
    output: Option<Output>,
) -> Result<(), CliError> {
    let api: Api<Rollout> = if all {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), namespace)
    };
    let items = api.list(&Default::default()).await.map_err(|e| {
        crate::cluster::Call {
            verb: "list",
            resource: "rollouts",
            kind: "rollouts",
            name: "",
            namespace,
        }
        .fail(e)
    })?;
    if let Some(output) = output {
        return print_as(&items.items, output);
    }
    let arcs: Vec<std::sync::Arc<Rollout>> = items.items.into_iter().map(std::sync::Arc::new).collect();
    if !watch {
        print!("{}", table(&arcs, all));
        return Ok(());
    }
    let (store, events) = reflect(api);
    let mut events = Box::pin(events);
    let mut last = String::new();
    loop {
        tokio::select! {
            event = events.next() => {
                if event.is_none() {
                    return Ok(());
                }
                let text = table(&store.state(), all);
                if text != last {
                    clear_and_print(&text);
                    last = text;
                }
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
