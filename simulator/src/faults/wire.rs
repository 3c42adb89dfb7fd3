//! How each fault looks on the wire. Faults that stand for something in front of the API (a
//! gateway's status, a reset, a hang) answer instead of the handler, which never sees the request;
//! faults that damage an answer in transit (dribble, truncate, malformed) let the handler run and
//! change only the bytes the client receives, so the state has moved even though the client could
//! not read the answer, which is exactly what firmware must cope with.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http_body_util::BodyExt;

use super::connection::ConnHandle;
use super::spec::Action;
use crate::errors::ErrorSpec;

/// A documented error the guard sends instead of calling the handler (after the body limit, as
/// the endpoint's own check would).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForcedError(pub ErrorSpec);

/// `status`: exactly what the fault names, nothing of the API's own (no envelope, no trace id).
pub(crate) fn status_answer(action: &Action) -> Option<Response> {
    let Action::Status { status, body, content_type, headers } = action else { return None };
    let mut res = (*status, body.clone()).into_response();
    res.headers_mut().insert(CONTENT_TYPE, content_type.clone());
    for (name, value) in headers {
        res.headers_mut().append(name.clone(), value.clone());
    }
    Some(res)
}

/// `reset` and `hang`: the connection ends with nothing sent. Without a socket (a test driving
/// the router directly) the body fails instead, which is how hyper sees a lost connection.
pub(crate) async fn no_answer(action: &Action, conn: Option<&ConnHandle>) -> Response {
    if let Action::Hang { max } = action {
        // Until the client gives up (hyper then drops this future) or `max` passes.
        tokio::time::sleep(*max).await;
    }
    if let Some(conn) = conn {
        if matches!(action, Action::Hang { .. }) {
            conn.close()
        } else {
            conn.reset()
        }
        // Hyper's first write of this answer meets the thrown switch: nothing reaches the wire.
        return Response::new(Body::empty());
    }
    let failing = futures::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("connection ended by a fault")) });
    Response::new(Body::from_stream(failing))
}

/// `dribble`, `truncate` and `malformed`, applied to the answer the handler gave.
pub(crate) async fn apply_after(action: &Action, res: Response) -> Response {
    let (mut parts, body) = res.into_parts();
    // The API's answers are small, in-memory bodies: collecting them cannot fail or take time.
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read an answer to damage it");
            Bytes::new()
        }
    };
    let full = bytes.len();
    let body = match action {
        Action::Dribble { over, chunks } => {
            let pieces = split(&bytes, *chunks as usize);
            let pause = over.checked_div(u32::try_from(pieces.len()).unwrap_or(u32::MAX).max(1)).unwrap_or_default();
            let stream = futures::stream::iter(pieces).then(move |piece| async move {
                tokio::time::sleep(pause).await;
                Ok::<Bytes, std::io::Error>(piece)
            });
            Body::from_stream(stream)
        }
        Action::Truncate => {
            let half = bytes.slice(..full / 2);
            // The pause lets hyper flush the head and the half body before the error ends the
            // connection: the client sees a short body, not a refused connection.
            let stream = futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]).chain(futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Err(std::io::Error::other("truncated by a fault"))
            }));
            Body::from_stream(stream)
        }
        Action::Malformed => {
            let broken = if full < 2 { Bytes::from_static(b"{") } else { bytes.slice(..full / 2) };
            parts.headers.insert(CONTENT_LENGTH, HeaderValue::from(broken.len()));
            return Response::from_parts(parts, Body::from(broken));
        }
        _ => return Response::from_parts(parts, Body::from(bytes)),
    };
    // The full length is declared, so the client knows to wait for (or miss) the rest.
    parts.headers.insert(CONTENT_LENGTH, HeaderValue::from(full));
    Response::from_parts(parts, body)
}

fn split(bytes: &Bytes, chunks: usize) -> Vec<Bytes> {
    if bytes.is_empty() {
        return vec![Bytes::new()];
    }
    let size = bytes.len().div_ceil(chunks.max(1));
    (0..bytes.len()).step_by(size).map(|start| bytes.slice(start..(start + size).min(bytes.len()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(action: &Action, text: &'static str) -> (Option<String>, Result<Bytes, String>) {
        let res = apply_after(action, Response::new(Body::from(text))).await;
        let len = res.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (len, res.into_body().collect().await.map(|c| c.to_bytes()).map_err(|e| e.to_string()))
    }

    #[tokio::test(start_paused = true)]
    async fn dribble_sends_every_byte_with_the_full_length() {
        let (len, body) = body_of(&Action::Dribble { over: Duration::from_secs(8), chunks: 4 }, "{\"status\":\"ok\"}").await;
        assert_eq!((len.as_deref(), body.as_deref()), (Some("15"), Ok(&b"{\"status\":\"ok\"}"[..])));
        assert_eq!(split(&Bytes::from_static(b"abcdefg"), 3), ["abc", "def", "g"]);
    }

    #[tokio::test(start_paused = true)]
    async fn truncate_declares_all_and_fails_after_half() {
        let (len, body) = body_of(&Action::Truncate, "0123456789").await;
        assert_eq!(len.as_deref(), Some("10"));
        assert!(body.is_err());
    }

    #[tokio::test]
    async fn malformed_is_half_the_json_with_its_own_length() {
        let (len, body) = body_of(&Action::Malformed, "{\"a\":\"bcd\"}").await;
        assert_eq!((len.as_deref(), body.as_deref()), (Some("5"), Ok(&b"{\"a\":"[..])));
        assert!(serde_json::from_slice::<serde_json::Value>(b"{\"a\":").is_err());
    }
}
