//! Password hashing with Argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1), always off
//! the async runtime, and a verification that costs the same whether or not the account exists.

use crate::error::{ApiError, ApiResult, Problems};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use std::sync::LazyLock;

pub const MIN_LENGTH: usize = 12;
const MAX_LENGTH: usize = 256;

/// A hash to verify against when the email is unknown, so both answers take as long.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default().hash_password(b"no account has this password").map(|h| h.to_string()).unwrap_or_default()
});

pub fn check_strength(p: &mut Problems, path: &str, password: &str) {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        p.add(path, format!("must be at least {MIN_LENGTH} characters"));
    } else if n > MAX_LENGTH {
        p.add(path, format!("must be at most {MAX_LENGTH} characters"));
    }
}

pub async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing failed: {e}")))
}

/// Whether `password` matches `stored`; with no stored hash, does the same work and says no.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let known = stored.is_some();
    let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false);
    known && ok
}

/// Builds the dummy hash ahead of the first login, so the first unknown-email answer is not faster.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // If it were not, an unknown email would skip the hashing work and answer faster.
        let parsed = PasswordHash::new(&DUMMY_HASH);
        assert!(parsed.is_ok(), "dummy hash {:?} does not parse: {parsed:?}", &*DUMMY_HASH);
    }
}
