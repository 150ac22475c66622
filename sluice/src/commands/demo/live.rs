//! Following the demo Rollout: the live tree on a terminal (redrawn on every watch event), one line
//! per change otherwise.

use std::io::{IsTerminal as _, Write as _};

use crds::rollout::RolloutPhase;
use crds::{AnalysisRun, Rollout};
use kube::Client;
use plugin::view::render;
use plugin::watch::Watched;

/// The demo namespace, watched.
pub struct Live {
    watched: Watched,
    tty: bool,
    last: String,
    footer: Option<Box<dyn Fn() -> String + Send>>,
}

impl Live {
    /// Starts watching `namespace`.
    pub fn start(client: &Client, namespace: &str) -> Self {
        Self {
            watched: Watched::start(client, namespace),
            tty: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            last: String::new(),
            footer: None,
        }
    }

    /// Whether it draws the live tree (a terminal) rather than lines.
    #[must_use]
    pub fn on_terminal(&self) -> bool {
        self.tty
    }

    /// A last line under the live tree (the Application's sync and health).
    pub fn set_footer(&mut self, footer: impl Fn() -> String + Send + 'static) {
        self.footer = Some(Box::new(footer));
    }

    /// The Rollout's AnalysisRuns now.
    pub fn runs(&self, name: &str) -> Vec<AnalysisRun> {
        self.watched.family(name).map(|f| f.runs).unwrap_or_default()
    }

    /// Draws the Rollout: the whole tree on a terminal, else one line when its state changes.
    fn draw(&mut self, name: &str) {
        let Some(family) = self.watched.family(name) else {
            return;
        };
        let view = family.view(crds::clock::system().now());
        let text = if self.tty {
            let footer = self
                .footer
                .as_ref()
                .map_or_else(String::new, |f| format!("\n{}\n", f()));
            format!("{}{footer}", render(&view, true))
        } else {
            let h = &view.header;
            let message = if h.status.message.is_empty() {
                String::new()
            } else {
                format!(" - {}", h.status.message)
            };
            format!(
                "{} {}{message} | step {} | weight {} (actual {}) | replicas {}/{} updated, {} available\n",
                h.status.icon.glyph(),
                h.status.phase,
                h.step.map_or("-".into(), |s| format!("{}/{}", s.index, s.count)),
                h.set_weight.unwrap_or(0),
                h.actual_weight.unwrap_or(0),
                h.replicas.updated,
                h.replicas.desired,
                h.replicas.available,
            )
        };
        if text != self.last {
            let mut out = std::io::stdout().lock();
            if self.tty {
                let _ = write!(out, "\x1b[H\x1b[2J{text}");
            } else {
                let _ = write!(out, "  {text}");
            }
            let _ = out.flush();
            self.last = text;
        }
    }

    /// Draws on every change until `done` holds for the Rollout, or `limit` passes.
    pub async fn until(
        &mut self,
        name: &str,
        limit: std::time::Duration,
        done: impl Fn(&Rollout) -> bool,
    ) -> Option<Rollout> {
        let deadline = tokio::time::Instant::from_std(crds::clock::stopwatch()) + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.watched.changed()).await {
                Ok(true) => {}
                Ok(false) | Err(_) => return None,
            }
            self.draw(name);
            if let Some(family) = self.watched.family(name).filter(|f| done(&f.rollout)) {
                return Some(family.rollout);
            }
        }
    }
}

/// Whether the controller has acted on the latest spec and the Rollout is in `phase`.
pub fn settled_in(rollout: &Rollout, phase: RolloutPhase) -> bool {
    let status = rollout.status.clone().unwrap_or_default();
    status.observed_generation == rollout.metadata.generation.map(|g| g.to_string()) && status.phase == Some(phase)
}
