//! Login throttling: growing waits after repeated failures, per account-and-address and per
//! address. Keyed on the client address too, so an attacker elsewhere cannot lock a user out;
//! held in memory (one instance; a shared store is needed when the service is scaled out).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before waits start: per account and address, and per address.
const FREE_PER_ACCOUNT: u32 = 5;
const FREE_PER_ADDRESS: u32 = 20;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
struct Entry {
    failures: u32,
    blocked_until: Option<Instant>,
}

#[derive(Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

fn keys(email: &str, ip: Option<IpAddr>) -> [(String, u32); 2] {
    let ip = ip.map(|i| i.to_string()).unwrap_or_else(|| "unknown".into());
    [(format!("account:{email}|{ip}"), FREE_PER_ACCOUNT), (format!("address:{ip}"), FREE_PER_ADDRESS)]
}

/// 1 s after the first failure past the free ones, doubling each time, up to 15 minutes.
fn wait_after(failures: u32, free: u32) -> Option<Duration> {
    let over = failures.checked_sub(free + 1)?;
    Some(Duration::from_secs(1u64 << over.min(20)).min(MAX_WAIT))
}

impl LoginThrottle {
    /// How long the caller must wait before another attempt, if at all.
    pub fn retry_after(&self, email: &str, ip: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        keys(email, ip)
            .iter()
            .filter_map(|(k, _)| entries.get(k)?.blocked_until.filter(|t| *t > now).map(|t| t - now))
            .max()
    }

    pub fn failed(&self, email: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for (k, free) in keys(email, ip) {
            let e = entries.entry(k).or_default();
            e.failures += 1;
            e.blocked_until = wait_after(e.failures, free).map(|w| now + w);
        }
    }

    pub fn succeeded(&self, email: &str, ip: Option<IpAddr>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&keys(email, ip)[0].0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_attempts_and_grow() {
        assert_eq!(wait_after(5, FREE_PER_ACCOUNT), None);
        assert_eq!(wait_after(6, FREE_PER_ACCOUNT), Some(Duration::from_secs(1)));
        assert_eq!(wait_after(8, FREE_PER_ACCOUNT), Some(Duration::from_secs(4)));
        assert_eq!(wait_after(60, FREE_PER_ACCOUNT), Some(MAX_WAIT));
    }

    #[test]
    fn another_address_is_not_slowed_by_an_attacker() {
        let t = LoginThrottle::default();
        let attacker: IpAddr = "10.0.0.9".parse().unwrap();
        let user: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..8 {
            t.failed("nurse@demo.mn", Some(attacker));
        }
        assert!(t.retry_after("nurse@demo.mn", Some(attacker)).is_some());
        assert!(t.retry_after("nurse@demo.mn", Some(user)).is_none());
    }
}
