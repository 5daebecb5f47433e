//! Every key the service uses, derived from one configured secret: the JWT signing key, the
//! pseudonym key (analysts' stable pseudonymous ids) and the cursor key (opaque page cursors).

use aes::Aes128;
use aes::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// The shortest secret accepted: 256 bits, as HS256 needs (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone)]
pub struct Keys {
    pub(crate) jwt_encoding: EncodingKey,
    pub(crate) jwt_decoding: DecodingKey,
    pseudonym: [u8; 32],
    cursor: Aes128,
    /// The cursor key of de-identified callers: a cursor is a stable function of a real id, so
    /// one key for every caller would let an analyst's row be matched to a field worker's.
    cursor_deidentified: Aes128,
}

/// HMAC-SHA256(secret, label): independent subkeys, so one leaking reveals nothing of the others.
fn derive(secret: &[u8], label: &str) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Self {
        let jwt = derive(secret, "cbss/jwt/v1");
        let cursor = derive(secret, "cbss/cursor/v1");
        let cursor_deidentified = derive(secret, "cbss/cursor-deidentified/v1");
        Self {
            jwt_encoding: EncodingKey::from_secret(&jwt),
            jwt_decoding: DecodingKey::from_secret(&jwt),
            pseudonym: derive(secret, "cbss/pseudonym/v1"),
            cursor: Aes128::new_from_slice(&cursor[..16]).expect("AES-128 takes 16-byte keys"),
            cursor_deidentified: Aes128::new_from_slice(&cursor_deidentified[..16])
                .expect("AES-128 takes 16-byte keys"),
        }
    }

    /// These keys as a de-identified caller's requests use them: their own cursor key.
    pub fn for_deidentified(&self) -> Self {
        Self { cursor: self.cursor_deidentified.clone(), ..self.clone() }
    }

    /// A random secret for development runs (tokens then die with the process).
    pub fn ephemeral() -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the operating system's random source");
        Self::from_secret(&secret)
    }

    /// A stable pseudonym of an id: the same id always maps to the same pseudonym, and without
    /// the key nobody can map back or compute it from a known id.
    pub fn pseudonym(&self, id: Uuid) -> Uuid {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.pseudonym).expect("any key length");
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }

    /// A login account's tag for the logs: the same email always has the same tag, so repeated
    /// failures against one account show, but the log never holds the email (which the audit
    /// log, readable by administrators only, keeps).
    pub fn account_tag(&self, email: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.pseudonym).expect("any key length");
        mac.update(b"login account:");
        mac.update(email.as_bytes());
        mac.finalize().into_bytes()[..6].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Encrypts an id for a page cursor (AES on one block: a permutation, so it round-trips).
    pub fn seal(&self, id: Uuid) -> [u8; 16] {
        let mut block = Array::from(*id.as_bytes());
        self.cursor.encrypt_block(&mut block);
        block.into()
    }

    pub fn open(&self, sealed: [u8; 16]) -> Uuid {
        let mut block = Array::from(sealed);
        self.cursor.decrypt_block(&mut block);
        Uuid::from_bytes(block.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_key_and_cursors_round_trip() {
        let a = Keys::from_secret(b"an example secret of thirty-two bytes!");
        let b = Keys::from_secret(b"another example secret, also long enough");
        let id = Uuid::now_v7();
        assert_eq!(a.pseudonym(id), a.pseudonym(id));
        assert_ne!(a.pseudonym(id), id);
        assert_ne!(a.pseudonym(id), b.pseudonym(id));
        assert_eq!(a.open(a.seal(id)), id);
        assert_ne!(Uuid::from_bytes(a.seal(id)), id);
    }
}
