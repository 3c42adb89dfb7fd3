//! One request and its response, as the client saw them: the evidence behind every verdict, and
//! the source of the `curl` command that replays it.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// `None` when no response arrived (connection refused, timeout).
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_error: Option<String>,
}

impl Exchange {
    /// The response body as JSON, if it is JSON by RFC 8259 (lone surrogates read as U+FFFD).
    pub fn json(&self) -> Option<serde_json::Value> {
        crate::json::parse(&self.response_body).map(|p| p.value)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.response_headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A shell command that sends the same request.
    pub fn curl(&self) -> String {
        let mut cmd = format!("curl -i -X {} {}", self.method, shell_quote(&self.url));
        for (k, v) in &self.request_headers {
            cmd.push_str(&format!(" -H {}", shell_quote(&format!("{k}: {v}"))));
        }
        if let Some(body) = &self.request_body {
            if body.len() > 4096 {
                cmd.push_str(&format!(" --data-binary @<(head -c {} /dev/zero | tr '\\0' ' ')", body.len()));
            } else {
                cmd.push_str(&format!(" --data-raw {}", shell_quote(body)));
            }
        }
        cmd
    }

    /// Status line and body, shortened for terminal and report excerpts.
    pub fn excerpt(&self) -> String {
        let status =
            self.status.map_or_else(|| format!("no response ({})", self.transport_error.as_deref().unwrap_or("?")), |s| s.to_string());
        let mut body = self.response_body.clone();
        if body.len() > 600 {
            let mut cut = 600;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push('…');
        }
        format!("{} {} -> {} {}", self.method, self.url, status, body)
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_quotes_headers_and_body() {
        let e = Exchange {
            method: "POST".into(),
            url: "http://t/pos/claim".into(),
            request_headers: vec![("Content-Type".into(), "application/json".into())],
            request_body: Some(r#"{"pairing_code":"it's"}"#.into()),
            status: Some(200),
            response_headers: vec![],
            response_body: String::new(),
            elapsed_ms: 1,
            transport_error: None,
        };
        assert_eq!(
            e.curl(),
            r#"curl -i -X POST 'http://t/pos/claim' -H 'Content-Type: application/json' --data-raw '{"pairing_code":"it'\''s"}'"#
        );
    }
}
