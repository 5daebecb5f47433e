//! The integration suite: HTTP to the real router against a real database (SQLite by default,
//! PostgreSQL when TEST_DATABASE_URL names a server). One binary, one module per area.

mod access;
mod analytics;
mod cases;
mod coverage;
mod differencing;
mod disclosure;
mod dose_validity;
mod error_codes;
mod exports;
mod family;
mod fixtures;
mod fuzzed_inputs;
mod health;
mod hostile_input;
mod nested_queries;
mod nodes;
mod org_units;
mod outage;
mod over_http;
mod people;
mod platform;
mod readme;
mod references;
mod referrals;
mod replica;
mod retries;
mod roles;
mod rollups;
mod services;
mod sync;
mod telemetry;
