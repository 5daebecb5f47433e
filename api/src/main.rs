//! The `cbss` binary: serve (the default), migrate, seed, schema.

fn main() -> anyhow::Result<()> {
    cbss::cli::run()
}
