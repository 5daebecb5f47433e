//! Access tokens (JWT, RFC 8725: one pinned algorithm, every registered claim required, an
//! explicit type) and refresh tokens (opaque random strings, stored only as hashes).

use super::Keys;
use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

pub const ISSUER: &str = "cbss";
pub const AUDIENCE: &str = "cbss-api";
/// RFC 9068's media type for access tokens; a token without it is not an access token.
pub const ACCESS_TYPE: &str = "at+jwt";
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Clock skew tolerated between services, kept small.
pub const LEEWAY_SECS: u64 = 5;
pub const REFRESH_TTL_DAYS: i64 = 30;
const ALGORITHM: Algorithm = Algorithm::HS256;

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The user's token version when issued; a raised version invalidates the token.
    pub ver: i32,
    /// The session (login) the token belongs to (`user_session.id`, its refresh tokens'
    /// family); an ended session invalidates the token. Required: a token without it is refused.
    pub sid: Uuid,
}

pub fn issue_access(keys: &Keys, user: Uuid, token_version: i32, session: Uuid, now: i64) -> Result<String, ApiError> {
    let claims = AccessClaims {
        sid: session,
        sub: user,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        nbf: now,
        exp: now + ACCESS_TTL_SECS,
        jti: Uuid::new_v4(),
        ver: token_version,
    };
    let header = Header { typ: Some(ACCESS_TYPE.into()), ..Header::new(ALGORITHM) };
    sign(keys, &header, &claims)
}

/// Signs any claims with the service's key: how access tokens are made, and how tests forge
/// tokens that differ from a real one in exactly one respect.
pub fn sign<T: Serialize>(keys: &Keys, header: &Header, claims: &T) -> Result<String, ApiError> {
    jsonwebtoken::encode(header, claims, &keys.jwt_encoding).map_err(|e| ApiError::Internal(e.into()))
}

/// Verifies signature, algorithm, type, issuer, audience and times; any failure is UNAUTHENTICATED.
pub fn verify_access(keys: &Keys, token: &str) -> Result<AccessClaims, ApiError> {
    let mut v = Validation::new(ALGORITHM);
    v.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.validate_nbf = true;
    v.leeway = LEEWAY_SECS;
    let data = jsonwebtoken::decode::<AccessClaims>(token, &keys.jwt_decoding, &v).map_err(|e| {
        tracing::info!(reason = %e, "access token refused");
        ApiError::Unauthenticated
    })?;
    if data.header.typ.as_deref() != Some(ACCESS_TYPE) {
        return Err(ApiError::Unauthenticated);
    }
    Ok(data.claims)
}

/// Whether a token's `nbf`..`exp` holds at `now` (seconds), with the same leeway as `verify_access`.
fn in_lifetime(nbf: i64, exp: i64, now: i64) -> bool {
    let leeway = LEEWAY_SECS as i64;
    nbf <= now + leeway && exp >= now - leeway
}

/// What a verified access token says about its user.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verified {
    pub sub: Uuid,
    pub ver: i32,
    pub sid: Uuid,
    nbf: i64,
    exp: i64,
}

/// Access tokens this process has verified, by their exact text. A client sends the same token
/// with every request for its 15 minutes; checking its signature and claims each time was an
/// eighth of a person-by-id request's CPU (callgrind, issue 7). Only the very same string hits,
/// and a remembered token is checked against the clock on every use.
#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<String, Verified>>,
}

impl VerifiedTokens {
    /// Entries beyond this are dropped all at once (a bound on memory, not a policy).
    const MAX_ENTRIES: usize = 10_000;

    pub fn verify(&self, keys: &Keys, token: &str) -> Result<Verified, ApiError> {
        self.verify_at(keys, token, chrono::Utc::now().timestamp())
    }

    fn verify_at(&self, keys: &Keys, token: &str, now: i64) -> Result<Verified, ApiError> {
        let known = self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(token).copied();
        let verified = match known {
            Some(v) => v,
            None => {
                let c = verify_access(keys, token)?;
                let v = Verified { sub: c.sub, ver: c.ver, sid: c.sid, nbf: c.nbf, exp: c.exp };
                let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
                if entries.len() >= Self::MAX_ENTRIES {
                    entries.clear();
                }
                entries.insert(token.to_owned(), v);
                v
            }
        };
        if !in_lifetime(verified.nbf, verified.exp, now) {
            return Err(ApiError::Unauthenticated);
        }
        Ok(verified)
    }
}

/// A new refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let token = format!("cbss_rt_{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_key_and_within_its_lifetime() {
        let keys = Keys::from_secret(b"0123456789abcdef0123456789abcdef");
        let other = Keys::from_secret(b"fedcba9876543210fedcba9876543210");
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let now = chrono::Utc::now().timestamp();
        let token = issue_access(&keys, user, 3, session, now).unwrap();
        let claims = verify_access(&keys, &token).unwrap();
        assert_eq!((claims.sub, claims.ver, claims.sid), (user, 3, session));
        assert!(verify_access(&other, &token).is_err());
        let old = issue_access(&keys, user, 3, session, now - ACCESS_TTL_SECS - 60).unwrap();
        assert!(verify_access(&keys, &old).is_err(), "expired");
        let future = issue_access(&keys, user, 3, session, now + 600).unwrap();
        assert!(verify_access(&keys, &future).is_err(), "not yet valid");
        let mut sessionless = serde_json::to_value(verify_access(&keys, &token).unwrap()).unwrap();
        sessionless.as_object_mut().unwrap().remove("sid");
        let header = Header { typ: Some(ACCESS_TYPE.into()), ..Header::new(ALGORITHM) };
        assert!(verify_access(&keys, &sign(&keys, &header, &sessionless).unwrap()).is_err(), "no session");
        let (refresh, hash) = new_refresh_token();
        assert!(verify_access(&keys, &refresh).is_err());
        assert_eq!(hash_refresh_token(&refresh), hash);
    }

    #[test]
    fn a_remembered_token_still_expires_and_a_changed_one_is_verified_again() {
        let keys = Keys::from_secret(b"0123456789abcdef0123456789abcdef");
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let now = chrono::Utc::now().timestamp();
        let token = issue_access(&keys, user, 3, session, now).unwrap();
        let memo = VerifiedTokens::default();
        let first = memo.verify_at(&keys, &token, now).unwrap();
        assert_eq!((first.sub, first.ver, first.sid), (user, 3, session));
        assert_eq!(memo.verify_at(&keys, &token, now + 60).unwrap(), first, "remembered");
        let lapsed = now + ACCESS_TTL_SECS + LEEWAY_SECS as i64 + 1;
        assert!(memo.verify_at(&keys, &token, lapsed).is_err(), "expired while remembered");
        assert!(memo.verify_at(&keys, &token, now - LEEWAY_SECS as i64 - 1).is_err(), "not yet valid");
        // The signature's first character changed: not the remembered string, so checked in full.
        let at = token.rfind('.').unwrap() + 1;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{}{}", &token[..at], swapped, &token[at + 1..]);
        assert!(memo.verify_at(&keys, &forged, now).is_err());
    }
}
