//! The `cbss` binary: serve (the default), migrate, seed, schema.

// Resolving a GraphQL answer makes many small, short-lived allocations on every worker thread;
// glibc's allocator spent a fifth of the server's time on a page of people (perf, issue 7).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    cbss::cli::run()
}
