//! What one answer shows, by rule: nothing, an advisory (a SIMULATOR choice differs, or an
//! answer an UNKNOWN rule leaves open but the simulator would not give), or a broken rule (whose
//! level in the catalogue decides failure or advisory).

use serde_json::Value;

use crate::judge::Ruling;

/// One exchange with the target, as the report shows it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
    pub raw: String,
}

impl Answer {
    pub fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn refusal(&self) -> bool {
        (400..500).contains(&self.status)
    }

    pub fn excerpt(&self) -> String {
        let raw: String = self.raw.chars().take(240).collect();
        format!("{} {raw}", self.status)
    }
}

/// KERR-01 (SIMULATOR; KERR-05: a real server's error bodies are UNKNOWN): problem details.
pub fn problem_shape(a: &Answer, notes: &mut Vec<Ruling>) {
    if !a.refusal() {
        return;
    }
    let ok = a.content_type.starts_with("application/problem+json")
        && a.body["type"].is_string()
        && a.body["title"].is_string()
        && a.body["status"].as_u64() == Some(u64::from(a.status))
        && a.body["detail"].is_string();
    if !ok {
        notes.push(Ruling::differs("KERR-01", format!("an error that is not RFC 9457 problem details: {}", a.excerpt())));
    }
}

/// A refusal the simulator answers with `status` and `detail`; any other 4xx is what the rule
/// `open` (UNKNOWN) leaves to a real server. A success breaks `required`.
pub fn refused(a: &Answer, status: u16, detail: &str, open: &'static str, required: &'static str, notes: &mut Vec<Ruling>) {
    if a.success() {
        notes.push(Ruling::broken(required, format!("expected a refusal ({status} {detail:?}); got {}", a.excerpt())));
    } else if !a.refusal() {
        notes.push(Ruling::broken(required, format!("expected a 4xx refusal; got {}", a.excerpt())));
    } else {
        problem_shape(a, notes);
        if a.status != status || a.body["detail"].as_str() != Some(detail) {
            notes.push(Ruling::differs(open, format!("the simulator answers {status} {detail:?}; got {}", a.excerpt())));
        }
    }
}

/// KCONV-12: a page.
pub fn page(a: &Answer, rule: &'static str, notes: &mut Vec<Ruling>) -> Option<Vec<Value>> {
    if a.status != 200 {
        notes.push(Ruling::broken(rule, format!("expected 200 with a page; got {}", a.excerpt())));
        return None;
    }
    let b = &a.body;
    let shaped = b["content"].is_array()
        && b["total_elements"].is_u64()
        && b["total_pages"].is_u64()
        && b["page_number"].is_u64()
        && b["page_size"].is_u64()
        && b["first"].is_boolean()
        && b["last"].is_boolean();
    if !shaped {
        notes.push(Ruling::broken("KCONV-12", format!("not a page: {}", a.excerpt())));
        return None;
    }
    b["content"].as_array().cloned()
}
