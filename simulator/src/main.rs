//! `viopay-sim`: parse flags, load fixtures, print the summary, serve until Ctrl-C.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use viopay_sim::Simulator;
use viopay_sim::cli::Cli;

/// mimalloc: a request allocates a few small buffers (headers, journal entry, JSON body), and the
/// system allocator's free path showed as ~12% of a status poll's CPU in a profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // clap exits 2 on a bad flag by itself.
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let listen = cli.listen;
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("viopay-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("viopay-sim: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(listen, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("viopay-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(listen: std::net::SocketAddr, config: viopay_sim::SimConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let simulator = Simulator::new(config, &format!("http://{addr}"))?;
    print!("{}", simulator.summary());
    use std::io::Write;
    std::io::stdout().flush()?;
    viopay_sim::serve(listener, &simulator, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
    .context("server error")
}
