//! How `load` puts a request on the wire. Against a plain-HTTP target it keeps its own pool of
//! HTTP/1.1 connections (hyper's connection API) instead of going through reqwest: a fleet's
//! status polls are the harness's hot path, and per request reqwest parses the URL, clones its
//! connector and client, checks a keyed pool out and hands the request to the connection's own
//! task and the answer back, which cost the harness more CPU than the simulator spent answering
//! (bench/load.sh). Here a request takes an idle connection (or opens one), is written by the
//! connection's task, and gives the connection back when its answer was read whole.
//! (Driving the connection from the requesting task instead, as oha does, measured no faster.)
//! Over HTTPS the requests go through the harness's reqwest client, as every other command's do.
//! Either way the answer is the same [`Exchange`], judged the same way.

use std::pin::Pin;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{ACCEPT, HOST, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::time::Sleep;

use crate::client::{ApiRequest, Client};
use crate::exchange::Exchange;

pub(super) enum Transport {
    Plain(Plain),
    Reqwest(Client),
}

impl Transport {
    /// A plain-HTTP base URL gets the pool; anything else goes through `client`.
    pub(super) fn new(client: &Client, timeout: Duration) -> Self {
        match Plain::for_base(client.base_url(), timeout) {
            Some(plain) => Transport::Plain(plain),
            None => Transport::Reqwest(client.clone()),
        }
    }

    pub(super) async fn send(&self, req: &ApiRequest) -> Exchange {
        match self {
            Transport::Plain(plain) => plain.send(req, None).await,
            Transport::Reqwest(client) => client.send(req).await,
        }
    }

    /// `request` in the wire's own terms, for sending it again and again.
    pub(super) fn prepare(&self, request: ApiRequest) -> Prepared {
        // A request hyper refuses is sent the usual way, and fails there as any other would.
        let head = match self {
            Transport::Plain(plain) => plain.head(&request).ok(),
            Transport::Reqwest(_) => None,
        };
        Prepared { request, head }
    }

    pub(super) async fn send_prepared(&self, prepared: &Prepared) -> Exchange {
        match (self, &prepared.head) {
            (Transport::Plain(plain), Some(head)) => plain.send(&prepared.request, Some(head)).await,
            _ => self.send(&prepared.request).await,
        }
    }
}

/// A request sent again and again (a terminal's status poll), its method, target and headers
/// parsed once: each send clones them instead of parsing and validating every header anew.
pub(super) struct Prepared {
    request: ApiRequest,
    head: Option<Head>,
}

impl Prepared {
    pub(super) fn request(&self) -> &ApiRequest {
        &self.request
    }
}

/// What hyper sends ahead of the body.
#[derive(Clone)]
struct Head {
    method: hyper::Method,
    uri: hyper::Uri,
    headers: hyper::HeaderMap,
}

impl Head {
    fn into_request(self, body: Full<Bytes>) -> hyper::Request<Full<Bytes>> {
        let mut request = hyper::Request::new(body);
        *request.method_mut() = self.method;
        *request.uri_mut() = self.uri;
        *request.headers_mut() = self.headers;
        request
    }
}

/// Idle HTTP/1.1 connections to one `host:port`, reused most recently idle first.
pub(super) struct Plain {
    base_url: String,
    /// Where to connect: the authority, with HTTP's port 80 when it names none.
    address: String,
    /// The base URL's path, if it has one, in front of every request path.
    prefix: String,
    /// The base URL's authority, sent as `Host`.
    host: HeaderValue,
    timeout: Duration,
    idle: Mutex<Vec<Lane>>,
}

/// An open connection, and the timer that bounds each request on it. The timer is reset per
/// request rather than made anew: a fresh timer per request (`tokio::time::timeout`) registered
/// and dropped a wheel entry each time, 5% of the ceiling in `bench/load.sh`.
struct Lane {
    conn: SendRequest<Full<Bytes>>,
    timer: Pin<Box<Sleep>>,
}

impl Plain {
    fn for_base(base_url: &str, timeout: Duration) -> Option<Self> {
        let rest = base_url.strip_prefix("http://")?;
        // A base URL with a path prefix keeps it in front of every request path.
        let rest = rest.trim_end_matches('/');
        let (authority, prefix) = rest.split_once('/').map_or((rest, String::new()), |(a, p)| (a, format!("/{p}")));
        if authority.is_empty() || authority.contains(['@', '?', '#']) || prefix.contains(['?', '#']) {
            return None;
        }
        let host = HeaderValue::from_str(authority).ok()?;
        let has_port = authority.rsplit_once(':').is_some_and(|(_, port)| !port.contains(']'));
        let address = if has_port { authority.to_owned() } else { format!("{authority}:80") };
        Some(Plain { base_url: base_url.trim_end_matches('/').to_owned(), address, prefix, host, timeout, idle: Mutex::new(Vec::new()) })
    }

    async fn send(&self, req: &ApiRequest, head: Option<&Head>) -> Exchange {
        let mut url = String::with_capacity(self.base_url.len() + req.path.len());
        url.push_str(&self.base_url);
        url.push_str(&req.path);
        let mut exchange = req.unanswered(url);
        let started = Instant::now();
        if let Err(e) = self.exchange(req, head, &mut exchange).await {
            exchange.transport_error = Some(e);
        }
        exchange.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        exchange
    }

    /// One request on an idle or a new connection, within the timeout; the connection goes back
    /// to the pool when the answer was read whole and the server keeps it open.
    async fn exchange(&self, req: &ApiRequest, head: Option<&Head>, exchange: &mut Exchange) -> Result<(), String> {
        let head = match head {
            Some(head) => head.clone(),
            None => self.head(req)?,
        };
        let request = head.into_request(Full::new(req.body.as_ref().map_or_else(Bytes::new, |b| Bytes::from(b.clone()))));
        let mut lane = self.checkout().await?;
        let Lane { conn, timer } = &mut lane;
        timer.as_mut().reset(tokio::time::Instant::now() + self.timeout);
        let work = async {
            let res = conn.send_request(request).await.map_err(|e| describe("request failed", &e))?;
            let (head, body) = res.into_parts();
            let body = body.collect().await.map_err(|e| describe("reading the body", &e))?.to_bytes();
            Ok::<_, String>((head, body))
        };
        let answered = tokio::select! {
            biased;
            answered = work => answered,
            () = timer.as_mut() => Err(format!("timed out: no complete answer within {} ms", self.timeout.as_millis())),
        };
        let (head, body) = answered?;
        exchange.status = Some(head.status.as_u16());
        exchange.response_headers = crate::client::header_pairs(&head.headers);
        exchange.response_body = String::from_utf8_lossy(&body).into_owned();
        if !lane.conn.is_closed() {
            self.idle.lock().push(lane);
        }
        Ok(())
    }

    fn head(&self, req: &ApiRequest) -> Result<Head, String> {
        let method = hyper::Method::from_bytes(req.method.as_bytes()).map_err(|e| format!("invalid method: {e}"))?;
        let target = if self.prefix.is_empty() { req.path.clone() } else { format!("{}{}", self.prefix, req.path) };
        let uri = hyper::Uri::try_from(target).map_err(|e| format!("invalid request to {}{}: {e}", self.base_url, req.path))?;
        let mut headers = hyper::HeaderMap::with_capacity(req.headers.len() + 2);
        for (name, value) in &req.headers {
            let name = header_name(name)?;
            let value = HeaderValue::from_str(value).map_err(|e| format!("invalid value of header `{name}`: {e}"))?;
            headers.append(name, value);
        }
        // What reqwest would have added: the target sees the same request either way.
        if !headers.contains_key(HOST) {
            headers.insert(HOST, self.host.clone());
        }
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        }
        Ok(Head { method, uri, headers })
    }

    async fn checkout(&self) -> Result<Lane, String> {
        loop {
            let Some(mut lane) = self.idle.lock().pop() else { break };
            if lane.conn.ready().await.is_ok() {
                return Ok(lane);
            }
        }
        let timeout = |what: &str| format!("timed out: {what} within {} ms", self.timeout.as_millis());
        let stream = tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(&self.address))
            .await
            .map_err(|_| timeout("no connection"))?
            .map_err(|e| format!("connection failed: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (conn, driver) =
            tokio::time::timeout(self.timeout, http1::Builder::new().title_case_headers(true).handshake(TokioIo::new(stream)))
                .await
                .map_err(|_| timeout("no connection"))?
                .map_err(|e| describe("connection failed", &e))?;
        tokio::spawn(async move {
            // The connection's end is the request's error, reported by `send_request`.
            let _ = driver.await;
        });
        Ok(Lane { conn, timer: Box::pin(tokio::time::sleep(self.timeout)) })
    }
}

/// The header names a load run's terminals and merchants send, parsed once. A name that is not a
/// standard one (`X-Device-Id`) is lowercased into a new allocation by each parse.
static KNOWN_NAMES: LazyLock<[HeaderName; 9]> = LazyLock::new(|| {
    ["x-device-id", "x-client-type", "user-agent", "authorization", "content-type", "x-key-id", "x-timestamp", "x-nonce", "x-signature"]
        .map(HeaderName::from_static)
});

fn header_name(name: &str) -> Result<HeaderName, String> {
    match KNOWN_NAMES.iter().find(|known| known.as_str().eq_ignore_ascii_case(name)) {
        Some(known) => Ok(known.clone()),
        None => HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("invalid header name `{name}`: {e}")),
    }
}

fn describe(kind: &str, e: &dyn std::error::Error) -> String {
    crate::client::error_chain(kind, e)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::Router;
    use axum::extract::ConnectInfo;
    use axum::http::HeaderMap;
    use axum::routing::get;

    use super::*;

    /// A server answering every request under `/api` with the client's port and the `Host` it
    /// sent; `close`: each answer says `Connection: close`.
    async fn server(close: bool) -> String {
        let app = Router::new().route(
            "/api/pos/status",
            get(move |ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap| async move {
                let read = |name: &str| headers.get(name).and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
                let (host, device) = (read("host"), read("x-device-id"));
                let body = format!(r#"{{"port":{},"host":"{host}","device":"{device}"}}"#, peer.port());
                if close { ([("connection", "close")], body) } else { ([("x-kept", "open")], body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
        format!("http://{addr}/api")
    }

    fn plain(base: &str, timeout: Duration) -> Plain {
        Plain::for_base(base, timeout).expect("a plain-HTTP base URL")
    }

    fn port(ex: &Exchange) -> u64 {
        ex.json().and_then(|v| v["port"].as_u64()).unwrap_or_else(|| panic!("no port in {ex:?}"))
    }

    #[tokio::test]
    async fn requests_keep_the_base_path_send_host_and_reuse_the_connection() {
        let base = server(false).await;
        let client = plain(&base, Duration::from_secs(5));
        let req = ApiRequest::new("GET", "/pos/status").header("X-Device-Id", "POS-00000001");
        let first = client.send(&req, None).await;
        let second = client.send(&req, None).await;
        assert_eq!((first.status, second.status), (Some(200), Some(200)), "{first:?}");
        assert_eq!(first.url, format!("{base}/pos/status"));
        let authority = base.trim_start_matches("http://").trim_end_matches("/api");
        assert_eq!(first.json().and_then(|v| v["host"].as_str().map(str::to_owned)).as_deref(), Some(authority));
        assert_eq!(port(&first), port(&second), "the second request takes the idle connection");
        assert_eq!(first.request_headers, req.headers);
    }

    /// A prepared request sends the same request as an unprepared one, every time.
    #[tokio::test]
    async fn a_prepared_request_is_sent_as_the_request_itself_again_and_again() {
        let base = server(false).await;
        let wire = Transport::Plain(plain(&base, Duration::from_secs(5)));
        let req = ApiRequest::new("GET", "/pos/status").header("X-Device-Id", "POS-00000001");
        let prepared = wire.prepare(req.clone());
        let once = wire.send(&req).await;
        let (first, second) = (wire.send_prepared(&prepared).await, wire.send_prepared(&prepared).await);
        for ex in [&first, &second] {
            assert_eq!(ex.status, Some(200), "{ex:?}");
            assert_eq!((&ex.url, &ex.request_headers), (&once.url, &req.headers));
            let read = |ex: &Exchange, k: &str| ex.json().and_then(|v| v[k].as_str().map(str::to_owned));
            assert_eq!((read(ex, "host"), read(ex, "device")), (read(&once, "host"), Some("POS-00000001".into())));
        }
        assert_eq!(port(&first), port(&second), "the idle connection is reused");
    }

    #[tokio::test]
    async fn a_connection_the_server_closes_is_not_reused() {
        let base = server(true).await;
        let client = plain(&base, Duration::from_secs(5));
        let req = ApiRequest::new("GET", "/pos/status");
        let (first, second) = (client.send(&req, None).await, client.send(&req, None).await);
        assert_eq!((first.status, second.status), (Some(200), Some(200)), "{second:?}");
        assert_ne!(port(&first), port(&second), "a new connection after `Connection: close`");
    }

    /// A target that accepts and never answers is reported as timed out, on a paused clock.
    #[tokio::test(start_paused = true)]
    async fn a_target_that_never_answers_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let client = plain(&format!("http://{addr}"), Duration::from_secs(30));
        let ex = client.send(&ApiRequest::new("GET", "/pos/status"), None).await;
        assert_eq!(ex.status, None);
        assert!(ex.transport_error.as_deref().is_some_and(|e| e.starts_with("timed out")), "{ex:?}");
    }

    #[test]
    fn only_plain_http_base_urls_take_the_pool() {
        assert!(Plain::for_base("https://backend.example", Duration::from_secs(1)).is_none());
        assert!(Plain::for_base("http://user@backend.example", Duration::from_secs(1)).is_none());
        let p = plain("http://127.0.0.1:8080/v1/", Duration::from_secs(1));
        assert_eq!(
            (p.host.to_str().ok(), p.prefix.as_str(), p.base_url.as_str()),
            (Some("127.0.0.1:8080"), "/v1", "http://127.0.0.1:8080/v1")
        );
        assert_eq!(p.address, "127.0.0.1:8080");
        assert_eq!(plain("http://backend.example", Duration::from_secs(1)).address, "backend.example:80");
        assert_eq!(plain("http://[::1]", Duration::from_secs(1)).address, "[::1]:80");
        assert_eq!(plain("http://[::1]:9000/", Duration::from_secs(1)).address, "[::1]:9000");
    }
}
