//! CBSS: the information backbone of a Convergent Basic Social Services programme for children.
//! `main.rs` only calls `cli::run`; everything else is reachable from here for the tests.

pub mod access;
pub mod admission;
pub mod app;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod disclosure;
pub mod domain;
pub mod error;
pub mod export;
pub mod graphiql;
pub mod graphql;
pub mod replica;
pub mod seed;
pub mod store;
pub mod telemetry;
pub mod transport;
