//! Ctrl-C, in one place: the first wait on [`Interrupt`] installs one process-wide listener;
//! every driver and every command that waits on something long (DNS, a capture) holds a
//! clone and stops, keeping what it learned, when the user presses Ctrl-C.

use std::sync::OnceLock;

use tokio::sync::watch;

static PRESSES: OnceLock<watch::Receiver<u32>> = OnceLock::new();

/// A handle on Ctrl-C presses (a count, so a second press can end what the first only asked to
/// stop).
#[derive(Debug, Clone)]
pub struct Interrupt {
    rx: Option<watch::Receiver<u32>>,
    /// Presses before this handle was made.
    base: u32,
    /// Presses already returned by [`Interrupt::pressed`].
    seen: u32,
}

impl Interrupt {
    /// Listens for Ctrl-C (installing the process-wide listener on first use; from then on
    /// SIGINT no longer ends the process by itself). Must be called inside the runtime.
    pub fn ctrl_c() -> Interrupt {
        let rx = PRESSES.get_or_init(|| {
            let (tx, rx) = watch::channel(0u32);
            tokio::spawn(async move {
                let mut n = 0u32;
                while tokio::signal::ctrl_c().await.is_ok() {
                    n = n.saturating_add(1);
                    if tx.send(n).is_err() {
                        return;
                    }
                }
            });
            rx
        });
        let base = *rx.borrow();
        Interrupt {
            rx: Some(rx.clone()),
            base,
            seen: base,
        }
    }

    /// A handle that never fires (tests, and runs that must not be interrupted).
    pub fn never() -> Interrupt {
        Interrupt {
            rx: None,
            base: 0,
            seen: 0,
        }
    }

    /// Whether Ctrl-C was pressed since this handle was made.
    pub fn is_set(&self) -> bool {
        self.rx.as_ref().is_some_and(|rx| *rx.borrow() > self.base)
    }

    /// Waits for a press this handle has not returned yet (one made before the call counts);
    /// never returns for [`Interrupt::never`]. Cancel-safe.
    pub async fn pressed(&mut self) {
        let Some(rx) = &mut self.rx else {
            return std::future::pending().await;
        };
        loop {
            let n = *rx.borrow_and_update();
            if n > self.seen {
                self.seen = n;
                return;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}
