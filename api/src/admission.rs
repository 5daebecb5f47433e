//! Admission to GraphQL execution: a few requests run at a time (`Config::concurrency`, first
//! come first served), since on a small machine a few at a time finish sooner, all of them,
//! than every one at once.
//!
//! A request gives its place up while it only waits for the database to make something
//! durable (`Ticket::waiting`: an audited read's commit, a few milliseconds of fsync and no
//! CPU), so that waiting does not keep the others from the CPU; it queues again after.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct Gate {
    places: Arc<Semaphore>,
    queue: Arc<Queue>,
}

/// The gate's size and how many wait at it (for `/metrics`).
struct Queue {
    places: usize,
    waiting: AtomicUsize,
}

/// One request counted as waiting until it gets in or gives up.
struct InQueue<'q>(&'q AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Gate {
    pub fn new(places: usize) -> Self {
        Self {
            places: Arc::new(Semaphore::new(places)),
            queue: Arc::new(Queue { places, waiting: AtomicUsize::new(0) }),
        }
    }

    /// Waits for a place; None once the gate is closed (shutting down).
    pub async fn enter(&self) -> Option<Arc<Ticket>> {
        self.queue.waiting.fetch_add(1, Ordering::Relaxed);
        let queued = InQueue(&self.queue.waiting);
        let permit = self.places.clone().acquire_owned().await.ok()?;
        drop(queued);
        Some(Arc::new(Ticket { gate: self.places.clone(), permit: Mutex::new(Some(permit)) }))
    }

    /// Requests running and requests waiting, now.
    pub fn load(&self) -> (usize, usize) {
        let running = self.queue.places.saturating_sub(self.places.available_permits());
        (running, self.queue.waiting.load(Ordering::Relaxed))
    }
}

/// A request's place; dropped with the request.
pub struct Ticket {
    gate: Arc<Semaphore>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Ticket {
    /// Runs `wait` without the place, then takes one again. Of several fields of one request
    /// waiting at once, the first gives the place up and takes it back; the others just wait.
    pub async fn waiting<F: Future>(&self, wait: F) -> F::Output {
        let held = self.permit.lock().expect("ticket").take();
        let gave_up = held.is_some();
        drop(held);
        let out = wait.await;
        if gave_up && let Ok(p) = self.gate.clone().acquire_owned().await {
            *self.permit.lock().expect("ticket") = Some(p);
        }
        out
    }

    /// Whether the request holds its place now.
    #[cfg(test)]
    fn holds(&self) -> bool {
        self.permit.lock().expect("ticket").is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_request_lets_another_in_and_gets_its_place_back() {
        let gate = Gate::new(1);
        let first = gate.enter().await.unwrap();
        let during = first
            .waiting(async {
                // The one place is free while the first waits: a second request gets in.
                let second = gate.enter().await.unwrap();
                assert!(second.holds());
            })
            .await;
        let () = during;
        assert!(first.holds());
        assert_eq!(gate.places.available_permits(), 0);
        drop(first);
        assert_eq!(gate.places.available_permits(), 1);
    }
}
