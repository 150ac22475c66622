//! A [`View`] as text: the header, then the tree as a table (NAME, KIND, STATUS, AGE, INFO).

use std::fmt::Write;

use super::{Icon, View};

fn paint(text: &str, icon: Icon, colour: bool) -> String {
    if colour {
        format!("\x1b[{}m{text}\x1b[0m", icon.colour())
    } else {
        text.to_string()
    }
}

/// Renders the view; ANSI colours only when `colour`.
#[must_use]
pub fn render(view: &View, colour: bool) -> String {
    let h = &view.header;
    let mut out = String::new();
    let (icon, phase, message) = (h.status.icon, &h.status.phase, &h.status.message);
    let _ = writeln!(out, "Name:            {}", h.name);
    let _ = writeln!(out, "Namespace:       {}", h.namespace);
    let _ = writeln!(
        out,
        "Status:          {}",
        paint(&format!("{} {phase}", icon.glyph()), icon, colour)
    );
    if !message.is_empty() {
        let _ = writeln!(out, "Message:         {message}");
    }
    let _ = writeln!(out, "Strategy:        {}", h.strategy);
    if let Some(step) = h.step {
        let _ = writeln!(out, "  Step:          {}/{}", step.index, step.count);
    }
    if let Some(w) = h.set_weight {
        let _ = writeln!(out, "  SetWeight:     {w}");
    }
    if let Some(w) = h.actual_weight {
        let _ = writeln!(out, "  ActualWeight:  {w}");
    }
    if let Some(router) = &h.router {
        let _ = writeln!(out, "  Router:        {router}");
    }
    for (i, super::Image { image, roles }) in h.images.iter().enumerate() {
        let label = if i == 0 {
            "Images:          "
        } else {
            "                 "
        };
        let _ = writeln!(out, "{label}{image} ({})", roles.join(", "));
    }
    let r = h.replicas;
    let _ = writeln!(out, "Replicas:");
    let _ = writeln!(out, "  Desired:       {}", r.desired);
    let _ = writeln!(out, "  Current:       {}", r.current);
    let _ = writeln!(out, "  Updated:       {}", r.updated);
    let _ = writeln!(out, "  Ready:         {}", r.ready);
    let _ = writeln!(out, "  Available:     {}", r.available);
    let _ = writeln!(out);
    // Tree prefixes: for each node, the lines of its ancestors and its own branch.
    let mut names = Vec::with_capacity(view.tree.len());
    let mut open: Vec<bool> = Vec::new();
    for node in &view.tree {
        open.truncate(node.depth);
        let mut prefix = String::new();
        if node.depth > 0 {
            for still_open in open.iter().skip(1) {
                prefix.push_str(if *still_open { "│  " } else { "   " });
            }
            prefix.push_str(if node.last { "└──" } else { "├──" });
        }
        open.push(!node.last);
        names.push(format!("{prefix}{} {}", node.glyph, node.name));
    }
    let width = |f: &dyn Fn(usize) -> usize| (0..view.tree.len()).map(f).max().unwrap_or(0);
    let name_w = width(&|i| names[i].chars().count()).max(4);
    let kind_w = width(&|i| view.tree[i].kind.len()).max(4);
    let status_w = width(&|i| view.tree[i].status.as_ref().map_or(0, |b| b.text.chars().count() + 2)).max(6);
    let age_w = width(&|i| view.tree[i].age.len()).max(3);
    let _ = writeln!(
        out,
        "{:name_w$}  {:kind_w$}  {:status_w$}  {:age_w$}  INFO",
        "NAME", "KIND", "STATUS", "AGE"
    );
    for (node, name) in view.tree.iter().zip(&names) {
        let status = node
            .status
            .as_ref()
            .map(|b| (format!("{} {}", b.icon.glyph(), b.text), b.icon));
        let status_text = status.as_ref().map_or(String::new(), |(t, _)| t.clone());
        let pad = status_w.saturating_sub(status_text.chars().count());
        let shown = status.map_or(String::new(), |(t, icon)| paint(&t, icon, colour));
        let name_pad = name_w.saturating_sub(name.chars().count());
        let line = format!(
            "{name}{}  {:kind_w$}  {shown}{}  {:age_w$}  {}",
            " ".repeat(name_pad),
            node.kind,
            " ".repeat(pad),
            node.age,
            node.info
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
