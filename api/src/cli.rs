//! The command line: `cbss [serve]`, `cbss migrate`, `cbss seed --demo [--people N]`, `cbss schema` (and the hidden `cbss bench-zscores --n N`).

use crate::access::Principal;
use crate::config::Config;
use crate::domain::vocab::Role;
use crate::domain::vocab::{CoverageDimension, OrgUnitLevel};
use crate::store::{NewUser, Store};
use crate::{app, db, seed};
use clap::{Parser, Subcommand};
use std::sync::Arc;

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
    /// Ask the server at `CBSS_BIND` whether it is ready (`/readyz`): exit 0 if so, 1 if not. For
    /// container health checks, whose image has no curl and whose `/bin/sh` has no `/dev/tcp`.
    Healthcheck,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Import data from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print the SQL `coverage` runs for an administrator (benchmarks run it directly).
    #[command(hide = true)]
    CoverageSql {
        #[arg(long)]
        indicator: String,
        /// Unit code (e.g. MN, R-W, 85).
        #[arg(long)]
        org_unit: String,
        #[arg(long, default_value = "LAST_12_MONTHS")]
        period: String,
        /// Comma-separated dimensions (ORG_UNIT, SEX, AGE_BAND, URBAN_RURAL, MONTH, QUARTER).
        #[arg(long, default_value = "")]
        group_by: String,
        /// Grouped by ORG_UNIT: rows at this level (e.g. AIMAG).
        #[arg(long)]
        org_unit_level: Option<String>,
    },
    /// Time the WHO z-score computation for N synthetic measurements (build with --release).
    #[command(hide = true)]
    BenchZscores {
        #[arg(long, default_value_t = 100_000)]
        n: usize,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Official population estimates from a CSV file (header: org_unit_code, year, sex,
    /// age_from_years, age_to_years, population); all or nothing.
    Population {
        file: std::path::PathBuf,
        /// Where the figures come from (e.g. "NSO 2026 projections").
        #[arg(long)]
        source: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; prints a generated password when none is given.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: Vec<RoleArg>,
        /// Org-unit codes (e.g. 85 for Uvs, 11-BZD for Bayanzürkh) the user may write in.
        #[arg(long = "scope", num_args = 1..)]
        scope: Vec<String>,
        /// Org-unit codes the user may read in besides the capture scope.
        #[arg(long = "view-scope", num_args = 1..)]
        view_scope: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        /// The password; better given through the environment than on a command line.
        #[arg(long, env = "CBSS_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Admin,
    Analyst,
    Researcher,
    Partner,
    FieldWorker,
    Provider,
    CaseWorker,
    Supervisor,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Analyst => Role::Analyst,
            RoleArg::Researcher => Role::Researcher,
            RoleArg::Partner => Role::Partner,
            RoleArg::FieldWorker => Role::FieldWorker,
            RoleArg::Provider => Role::Provider,
            RoleArg::CaseWorker => Role::CaseWorker,
            RoleArg::Supervisor => Role::Supervisor,
        }
    }
}

async fn create_user(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create { email, role, scope, view_scope, name, password } = cmd;
    let (conn, _) = db::connect(config).await?;
    db::migrate(&conn).await?;
    let store = Store::new(conn, Principal::system(), Arc::new(config.keys()?));
    let ids = |codes: &[String]| {
        let store = store.clone();
        let codes = codes.to_vec();
        async move {
            let mut out = Vec::new();
            for c in codes {
                out.push(
                    store.org_unit_by_code(&c).await?.ok_or_else(|| anyhow::anyhow!("no org unit with code {c}"))?.id,
                );
            }
            anyhow::Ok(out)
        }
    };
    let capture = ids(&scope).await?;
    let view = ids(&view_scope).await?;
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => {
            let mut bytes = [0u8; 18];
            getrandom::fill(&mut bytes)?;
            (base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes), true)
        }
    };
    let user = store
        .create_user(NewUser {
            email: email.clone(),
            display_name: name.unwrap_or_else(|| email.clone()),
            password: password.clone(),
            roles: role.into_iter().map(Role::from).collect(),
            capture_unit_ids: capture,
            view_unit_ids: view,
            partner_id: None,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("created user {} ({})", user.email, user.id);
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Schema) => {
            print!("{}", crate::graphql::sdl());
            return Ok(());
        }
        Some(Command::BenchZscores { n }) => {
            println!("{}", crate::bench::run(n));
            return Ok(());
        }
        Some(Command::Healthcheck) => match ready(cli.config.bind) {
            Ok(()) => return Ok(()),
            Err(e) => {
                eprintln!("not ready: {e}");
                std::process::exit(1);
            }
        },
        _ => {}
    }
    let (format, otlp, metrics) =
        (cli.config.log_format, cli.config.otlp_endpoint.as_deref(), cli.config.metrics_token().is_some());
    let _tracing = crate::telemetry::init_logs(format, &cli.config.log, otlp, metrics)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let config = cli.config;
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let app = app::build(&config).await?;
                // A newcomer's first run: the embedded database, empty, gets the demo data.
                if config.is_default_database() && !config.is_production() && seed::is_empty(&app.db).await? {
                    tracing::info!("empty default database: loading demo data and demo users");
                    seed::demo(&app.db, seed::DEFAULT_PEOPLE, &config.demo_password).await?;
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
                anyhow::ensure!(demo, "only --demo data can be seeded; say `cbss seed --demo`");
                anyhow::ensure!(!config.is_production(), "demo data and demo users are never loaded in production");
                let (conn, _) = db::connect(&config).await?;
                db::migrate(&conn).await?;
                let started = std::time::Instant::now();
                let summary = seed::demo(&conn, people, &config.demo_password).await?;
                tracing::info!(?summary, elapsed = ?started.elapsed(), "demo data loaded");
                Ok(())
            }
            Command::Schema | Command::BenchZscores { .. } | Command::Healthcheck => Ok(()),
            Command::CoverageSql { indicator, org_unit, period, group_by, org_unit_level } => {
                let level = org_unit_level
                    .map(|l| OrgUnitLevel::parse(&l).ok_or_else(|| anyhow::anyhow!("unknown level {l}")))
                    .transpose()?;
                let mut dims = Vec::new();
                for d in group_by.split(',').map(str::trim).filter(|d| !d.is_empty()) {
                    dims.push(CoverageDimension::parse(d).ok_or_else(|| anyhow::anyhow!("unknown dimension {d}"))?);
                }
                let (conn, _) = db::connect(&config).await?;
                let store = Store::new(conn, Principal::system(), Arc::new(config.keys()?));
                let sql = store
                    .coverage_sql(&indicator, &org_unit, &period, dims, level)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                for statement in sql {
                    println!("{statement};");
                }
                Ok(())
            }
            Command::User(cmd) => create_user(&config, cmd).await,
            Command::Import(ImportCommand::Population { file, source }) => {
                let text = std::fs::read_to_string(&file)?;
                let (conn, _) = db::connect(&config).await?;
                db::migrate(&conn).await?;
                let store = Store::new(conn, Principal::system(), Arc::new(config.keys()?));
                let r = store.import_population(&text, source).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("imported {} estimates ({} replaced)", r.imported, r.replaced);
                Ok(())
            }
        }
    })
}

/// `GET /readyz` of the server listening on `bind` (an unspecified address means this machine).
pub fn ready(bind: std::net::SocketAddr) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let mut addr = bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let timeout = std::time::Duration::from_secs(3);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.lines().next().unwrap_or_default();
    anyhow::ensure!(status.split_whitespace().nth(1) == Some("200"), "{addr} answered {status:?}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn an_unknown_environment_refuses_to_start_and_names_the_allowed_ones() {
        let err = Cli::try_parse_from(["cbss", "--env", "prod", "schema"]).err().expect("prod is refused");
        let text = err.to_string();
        assert!(text.contains("development") && text.contains("production"), "{text}");
        let cli = Cli::try_parse_from(["cbss", "--env", "Production", "schema"]).expect("any case");
        assert!(cli.config.is_production());
    }
}
