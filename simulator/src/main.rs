//! `viopay-sim`: parse flags, load fixtures, print the summary, serve until Ctrl-C; or, as
//! `viopay-sim verdict`, judge the POS client a running simulator served.

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
    if let Some(viopay_sim::cli::Command::Verdict(args)) = cli.command {
        return match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => ExitCode::from(rt.block_on(viopay_sim::verdict::command::run(args))),
            Err(e) => {
                eprintln!("viopay-sim: cannot start the async runtime: {e}");
                ExitCode::from(2)
            }
        };
    }
    let listen = cli.listen;
    let tls = cli.tls_options().map(|opts| (cli.tls_listen, opts));
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
    match runtime.block_on(run(listen, tls, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("viopay-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    listen: std::net::SocketAddr,
    tls: Option<(std::net::SocketAddr, viopay_sim::tls::TlsOptions)>,
    config: viopay_sim::SimConfig,
) -> anyhow::Result<()> {
    use std::io::Write;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let exposed = !addr.ip().is_loopback() || tls.as_ref().is_some_and(|(a, _)| !a.ip().is_loopback());
    if exposed && config.control && config.control_token.is_none() {
        eprintln!(
            "viopay-sim: WARNING: listening beyond loopback with the control API open and no --control-token: \
             anyone who reaches this port can reset the simulator, move its clock, arm faults and read every \
             device's identity secret and ZMK. Set --control-token (or VIOPAY_SIM_CONTROL_TOKEN), or --no-control."
        );
    }
    let simulator = Simulator::new(config, &format!("http://{addr}"))?;
    print!("{}", simulator.summary());
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let shutdown = |stop: std::sync::Arc<tokio::sync::Notify>| async move { stop.notified().await };
    let https = match tls {
        None => None,
        Some((tls_listen, opts)) => {
            let prepared = viopay_sim::tls::prepare(&opts).context("--tls")?;
            let tls_listener =
                tokio::net::TcpListener::bind(tls_listen).await.with_context(|| format!("cannot listen on {tls_listen} (--tls-listen)"))?;
            println!("HTTPS on https://{} for {}", tls_listener.local_addr()?, opts.hosts.join(", "));
            if let Some(ca) = &prepared.ca {
                println!("  CA certificate: {} (SHA-256 {})", ca.path.display(), ca.sha256);
                println!(
                    "  Android test device: adb push {} /sdcard/Download/, then Settings > Security > Encryption & credentials > Install a certificate > CA certificate (apps must trust user CAs in their network security config)",
                    ca.path.display()
                );
            }
            if opts.client_ca.is_some() {
                println!("  mutual TLS: clients must present a certificate signed by the --tls-client-ca");
            }
            Some((tls_listener, prepared.config))
        }
    };
    std::io::stdout().flush()?;
    let on_ctrl_c = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        on_ctrl_c.notify_waiters();
    });
    let http = viopay_sim::serve(listener, &simulator, shutdown(stop.clone()));
    match https {
        None => http.await.context("server error"),
        Some((tls_listener, config)) => {
            let https = viopay_sim::serve_tls(tls_listener, &simulator, config, shutdown(stop.clone()));
            tokio::try_join!(http, https).map(|_| ()).context("server error")
        }
    }
}
