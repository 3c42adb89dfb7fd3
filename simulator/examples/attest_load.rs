//! Load for `POST /pos/attest`, which oha cannot generate: every request needs a fresh nonce and
//! its own HMAC signature (ATT-05, ATT-06). Signs with the device's identity key and reports the
//! rate; `bench/run.sh` reads the server's CPU time around it.
//!
//! Usage: `attest_load URL DEVICE KEY_ID SECRET_BASE64 REQUESTS CONCURRENCY`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use viopay_sim::crypto::signature::{sign, signing_string};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, device, key_id, secret, requests, concurrency] = args.as_slice() else {
        anyhow::bail!("usage: attest_load URL DEVICE KEY_ID SECRET_BASE64 REQUESTS CONCURRENCY");
    };
    let secret: [u8; 32] = STANDARD.decode(secret)?.try_into().map_err(|_| anyhow::anyhow!("the secret is not 32 bytes"))?;
    let (requests, concurrency): (usize, usize) = (requests.parse()?, concurrency.parse()?);
    let client = reqwest::Client::builder().tcp_nodelay(true).pool_max_idle_per_host(concurrency).build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, next, failures) = (client.clone(), next.clone(), failures.clone());
            let (url, device, key_id) = (format!("{url}/pos/attest"), device.clone(), key_id.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let timestamp =
                        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                    let nonce = format!("w{w:04}n{:016}", next.load(Ordering::Relaxed));
                    let signature = sign(&secret, &signing_string(&device, &key_id, &timestamp, &nonce));
                    let ok = client
                        .post(&url)
                        .header("X-Device-Id", &device)
                        .header("User-Agent", "Viopay-POS/1.4.2 (Android 12; PAX-A920)")
                        .header("X-Client-Type", "pos")
                        .header("X-Key-Id", &key_id)
                        .header("X-Timestamp", &timestamp)
                        .header("X-Nonce", &nonce)
                        .header("X-Signature", &signature)
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == 200);
                    if !ok {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{:.0} {}", requests as f64 / secs, failures.load(Ordering::Relaxed));
    Ok(())
}
