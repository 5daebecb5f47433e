//! Identity: keys derived from the configured secret, access tokens (JWT per RFC 8725), refresh
//! tokens, password hashing and login throttling. Who may do what is `access.rs`'s business.

pub mod caller;
pub mod keys;
pub mod password;
pub mod principals;
pub mod throttle;
pub mod tokens;

pub use keys::Keys;
pub use principals::PrincipalCache;
