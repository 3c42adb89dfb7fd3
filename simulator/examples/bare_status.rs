//! The benchmark's baseline: the smallest axum server answering `GET /pos/status` with the same
//! fixed JSON the simulator gives an idle device. `bench/run.sh` compares the simulator to it.
//!
//! Usage: `cargo run --release -p viopay-sim --example bare_status -- 127.0.0.1:18182`

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;

/// The same allocator as the simulator binary, so the comparison measures the code, not malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str = r#"{"device_status":"inactive","is_claimed":false,"pairing_code_status":"none"}"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18182".into());
    let app = Router::new().route("/pos/status", get(|| async { ([(CONTENT_TYPE, "application/json")], BODY) }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("bare_status listening on http://{}", listener.local_addr()?);
    // TCP_NODELAY, as the simulator does.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}
