//! What one answer shows, by rule: nothing, an advisory (a SIMULATOR choice differs, or an
//! answer an UNKNOWN rule leaves open but the simulator would not give), or a broken rule (whose
//! level in the catalogue decides failure or advisory).

use serde_json::Value;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A rule the answer breaks (its level decides how much that weighs).
    Broken { rule: &'static str, message: String },
    /// An answer the rules allow that differs from the simulator's choice under this rule, in a
    /// value or form only: the state the model follows is the same (a code's shape, a status
    /// code, a member more), so every later check still applies.
    Differs { rule: &'static str, message: String },
    /// An allowed answer after which the target's state is not the simulator's (a refusal where
    /// the simulator accepts, or the other way round): checks written for the simulator's branch
    /// are then "not verified", and records the target did not make are "not applicable".
    Branch { rule: &'static str, message: String },
}

impl Note {
    pub fn broken(rule: &'static str, message: impl Into<String>) -> Self {
        Note::Broken { rule, message: message.into() }
    }

    pub fn differs(rule: &'static str, message: impl Into<String>) -> Self {
        Note::Differs { rule, message: message.into() }
    }

    pub fn branch(rule: &'static str, message: impl Into<String>) -> Self {
        Note::Branch { rule, message: message.into() }
    }

    pub fn rule(&self) -> &'static str {
        match self {
            Note::Broken { rule, .. } | Note::Differs { rule, .. } | Note::Branch { rule, .. } => rule,
        }
    }

    /// The rule and the message, whatever the kind.
    pub fn into_parts(self) -> (&'static str, String) {
        match self {
            Note::Broken { rule, message } | Note::Differs { rule, message } | Note::Branch { rule, message } => (rule, message),
        }
    }
}

/// KERR-01 (SIMULATOR; KERR-05: a real server's error bodies are UNKNOWN): problem details.
pub fn problem_shape(a: &Answer, notes: &mut Vec<Note>) {
    if !a.refusal() {
        return;
    }
    let ok = a.content_type.starts_with("application/problem+json")
        && a.body["type"].is_string()
        && a.body["title"].is_string()
        && a.body["status"].as_u64() == Some(u64::from(a.status))
        && a.body["detail"].is_string();
    if !ok {
        notes.push(Note::differs("KERR-01", format!("an error that is not RFC 9457 problem details: {}", a.excerpt())));
    }
}

/// A refusal the simulator answers with `status` and `detail`; any other 4xx is what the rule
/// `open` (UNKNOWN) leaves to a real server. A success breaks `required`.
pub fn refused(a: &Answer, status: u16, detail: &str, open: &'static str, required: &'static str, notes: &mut Vec<Note>) {
    if a.success() {
        notes.push(Note::broken(required, format!("expected a refusal ({status} {detail:?}); got {}", a.excerpt())));
    } else if !a.refusal() {
        notes.push(Note::broken(required, format!("expected a 4xx refusal; got {}", a.excerpt())));
    } else {
        problem_shape(a, notes);
        if a.status != status || a.body["detail"].as_str() != Some(detail) {
            notes.push(Note::differs(open, format!("the simulator answers {status} {detail:?}; got {}", a.excerpt())));
        }
    }
}

/// KCONV-12: a page.
pub fn page(a: &Answer, rule: &'static str, notes: &mut Vec<Note>) -> Option<Vec<Value>> {
    if a.status != 200 {
        notes.push(Note::broken(rule, format!("expected 200 with a page; got {}", a.excerpt())));
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
        notes.push(Note::broken("KCONV-12", format!("not a page: {}", a.excerpt())));
        return None;
    }
    b["content"].as_array().cloned()
}
