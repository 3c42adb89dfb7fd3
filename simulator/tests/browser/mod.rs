//! Headless Chromium driven over WebDriver (fantoccini and Debian's chromedriver). Installs
//! Debian's `chromium` and `chromium-driver` when they are missing and the test runs as root (as
//! in CI); otherwise says how to install them. Each [`Browser`] has its own chromedriver on a free
//! port and its own empty profile, and ends both when dropped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to show what a step waits for.
pub const PATIENCE: Duration = Duration::from_secs(20);

fn ensure_installed() {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return;
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert!(
        root,
        "headless Chromium is missing: run `apt-get install -y chromium chromium-driver` as root (the test does it when it runs as root)"
    );
    // Both browser tests may get here at once (nextest runs each in its own process): apt waits
    // for the other's dpkg lock rather than failing.
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=600", "-q"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    // A fresh machine's package lists may be stale: install, or update and install.
    let _ = apt(&["install", "-y", "chromium", "chromium-driver"])
        || (apt(&["update"]) && apt(&["install", "-y", "chromium", "chromium-driver"]));
    assert!(Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(), "apt-get could not install chromium and chromium-driver");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start(width: u32, height: u32) -> Browser {
        ensure_installed();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        // The flags a closed network needs: no background fetches, no component updates, no sync.
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({ "browserName": "chrome", "goog:chromeOptions": { "binary": CHROMIUM, "args": args } });
        let caps = caps.as_object().cloned().unwrap_or_default();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(caps.clone());
            match builder.connect(&url).await {
                Ok(c) => break c,
                Err(e) if started.elapsed() < PATIENCE => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot start a Chromium session through {CHROMEDRIVER}: {e}"),
            }
        };
        Browser { client, driver, _profile: profile }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
    }

    /// The text of the first element matching `css`, once one exists.
    pub async fn text(&self, css: &str) -> String {
        self.eventually(&format!("an element {css}"), || async move {
            let e = self.client.find(Locator::Css(css)).await.ok()?;
            e.text().await.ok()
        })
        .await
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.client.find(Locator::Css(css)).await.ok()?.attr(name).await.ok()?
    }

    /// Waits until `css` shows text containing `want`; returns the text.
    pub async fn until_text(&self, css: &str, want: &str) -> String {
        self.eventually(&format!("{css} to show “{want}”"), || async move {
            let e = self.client.find(Locator::Css(css)).await.ok()?;
            e.text().await.ok().filter(|t| t.contains(want))
        })
        .await
    }

    /// Polls `probe` until it gives a value. The wait is for the page (a render, a fetch), never
    /// for the simulator's clock, which the test moves itself.
    pub async fn eventually<T, F, Fut>(&self, what: &str, probe: F) -> T
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(v) = probe().await {
                return v;
            }
            if started.elapsed() > PATIENCE {
                let source = self.client.source().await.unwrap_or_default();
                panic!("waited {PATIENCE:?} for {what}; the page is at {}:\n{source}", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Ends the browser session; chromedriver ends when the `Browser` drops.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
