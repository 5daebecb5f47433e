//! The integration suite: HTTP to the real router against a real database (SQLite by default,
//! PostgreSQL when TEST_DATABASE_URL names a server). One binary, one module per area.

mod access;
mod analytics;
mod coverage;
mod family;
mod fixtures;
mod health;
mod nested_queries;
mod org_units;
mod people;
mod platform;
mod services;
mod sync;
