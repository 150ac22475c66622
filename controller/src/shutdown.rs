//! One stop signal for every reconciler: each finishes its in-flight reconciles and returns.

use tokio::sync::watch;

/// Sends the stop signal.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// Waits for the stop signal; clone it for each reconciler.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

/// A trigger and the signal it sends.
#[must_use]
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    /// Signals every [`Shutdown`] made from this trigger.
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    /// Completes once the stop signal is sent (or its trigger is dropped).
    pub async fn wait(mut self) {
        let rx = &mut self.0;
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn every_clone_hears_the_stop() {
        let (trigger, shutdown) = channel();
        let a = tokio::spawn(shutdown.clone().wait());
        let b = tokio::spawn(shutdown.wait());
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!a.is_finished());
        trigger.stop();
        tokio::time::timeout(Duration::from_secs(1), a).await.unwrap().unwrap();
        tokio::time::timeout(Duration::from_secs(1), b).await.unwrap().unwrap();
    }
}
