//! The command line: `cbss [serve]`, `cbss migrate`, `cbss seed --demo [--people N]`, `cbss schema` (and the hidden `cbss bench-zscores --n N`).

use crate::config::Config;
use crate::{app, db, seed};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cbss", version, about = "CBSS GraphQL service")]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate and serve the GraphQL API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Load data.
    Seed {
        /// Load the deterministic demo data set (focus soums and khoroos, households, services).
        #[arg(long)]
        demo: bool,
        /// How many people the demo data holds.
        #[arg(long, default_value_t = seed::DEFAULT_PEOPLE)]
        people: usize,
    },
    /// Print the GraphQL schema (SDL); `cbss schema > schema.graphql` regenerates the checked-in copy.
    Schema,
    /// Time the WHO z-score computation for N synthetic measurements (build with --release).
    #[command(hide = true)]
    BenchZscores {
        #[arg(long, default_value_t = 100_000)]
        n: usize,
    },
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Schema) => {
            print!("{}", crate::graphql::schema().sdl());
            return Ok(());
        }
        Some(Command::BenchZscores { n }) => {
            println!("{}", crate::bench::run(n));
            return Ok(());
        }
        _ => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cli.config.log)?)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let config = cli.config;
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let app = app::build(&config).await?;
                // A newcomer's first run: the embedded database, empty, gets the demo data.
                if config.is_default_database() && seed::is_empty(&app.db).await? {
                    tracing::info!("empty default database: loading demo data");
                    seed::demo(&app.db, seed::DEFAULT_PEOPLE).await?;
                }
                app::serve(&config, app).await
            }
            Command::Migrate => {
                let (conn, _) = db::connect(&config).await?;
                db::migrate(&conn).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Command::Seed { demo, people } => {
                anyhow::ensure!(
                    demo,
                    "only --demo data can be seeded; say `cbss seed --demo`"
                );
                let (conn, _) = db::connect(&config).await?;
                db::migrate(&conn).await?;
                let started = std::time::Instant::now();
                let summary = seed::demo(&conn, people).await?;
                tracing::info!(?summary, elapsed = ?started.elapsed(), "demo data loaded");
                Ok(())
            }
            Command::Schema | Command::BenchZscores { .. } => Ok(()),
        }
    })
}
