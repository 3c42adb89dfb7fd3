//! The catalogue's routes, looked up for every answer the harness judges (a load run's every
//! poll): a literal path by one hash lookup, a templated one (`/ipp/v1/devices/{id}`) by a scan
//! of the few templates. A linear scan of every route, comparing methods and paths, was the
//! largest part of checking a status answer's schema.

use std::collections::HashMap;

/// Values (`T`) keyed by `METHOD /path/template`.
pub(super) struct RouteTable<T> {
    /// Path → the methods routed there, each with its value.
    literal: HashMap<String, Vec<(String, T)>>,
    templated: Vec<Template<T>>,
}

struct Template<T> {
    method: String,
    segments: Vec<String>,
    value: T,
}

/// A catalogue where one path could match two entries, so the answer would depend on the order.
#[derive(Debug)]
pub(super) struct Ambiguous(pub(super) String);

impl<T> RouteTable<T> {
    /// Refuses a literal path that one of the templates with the same method also matches.
    pub(super) fn new(entries: Vec<(String, String, T)>) -> Result<Self, Ambiguous> {
        let mut table = RouteTable { literal: HashMap::new(), templated: Vec::new() };
        for (method, template, value) in entries {
            if template.contains('{') {
                table.templated.push(Template { method, segments: template.split('/').map(str::to_owned).collect(), value });
            } else {
                table.literal.entry(template).or_default().push((method, value));
            }
        }
        for (path, methods) in &table.literal {
            for (method, _) in methods {
                if table.templated.iter().any(|t| t.matches(method, path)) {
                    return Err(Ambiguous(format!("{method} {path} is also matched by a template")));
                }
            }
        }
        Ok(table)
    }

    /// The value of the route `method` and `path` (a query string is ignored). No allocation.
    pub(super) fn get(&self, method: &str, path: &str) -> Option<&T> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        if let Some((_, value)) = self.literal.get(path).and_then(|methods| methods.iter().find(|(m, _)| m == method)) {
            return Some(value);
        }
        self.templated.iter().find(|t| t.matches(method, path)).map(|t| &t.value)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &T> {
        self.literal.values().flatten().map(|(_, v)| v).chain(self.templated.iter().map(|t| &t.value))
    }

    pub(super) fn len(&self) -> usize {
        self.literal.values().map(Vec::len).sum::<usize>() + self.templated.len()
    }
}

impl<T> Template<T> {
    fn matches(&self, method: &str, path: &str) -> bool {
        if self.method != method {
            return false;
        }
        let mut segs = path.split('/');
        self.segments.iter().all(|t| segs.next().is_some_and(|s| t.starts_with('{') || t == s)) && segs.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable<&'static str> {
        let e = |m: &str, p: &str, v| (m.to_owned(), p.to_owned(), v);
        RouteTable::new(vec![
            e("GET", "/pos/status", "status"),
            e("POST", "/pos/status", "post-status"),
            e("GET", "/ipp/v1/devices/me", "me"),
            e("PUT", "/ipp/v1/devices/{id}", "put-device"),
            e("GET", "/ipp/v1/locations/{id}", "location"),
        ])
        .expect("not ambiguous")
    }

    #[test]
    fn literal_and_templated_paths_by_method_query_ignored() {
        let t = table();
        assert_eq!(t.get("GET", "/pos/status"), Some(&"status"));
        assert_eq!(t.get("POST", "/pos/status?x=1"), Some(&"post-status"));
        assert_eq!(t.get("DELETE", "/pos/status"), None);
        assert_eq!(t.get("GET", "/ipp/v1/devices/me"), Some(&"me"));
        assert_eq!(t.get("PUT", "/ipp/v1/devices/me"), Some(&"put-device"), "a literal path of another method falls to the templates");
        assert_eq!(t.get("PUT", "/ipp/v1/devices/d-1"), Some(&"put-device"));
        assert_eq!(t.get("GET", "/ipp/v1/locations/l-1?page=2"), Some(&"location"));
        assert_eq!(t.get("GET", "/ipp/v1/locations/l-1/x"), None, "a template matches whole segments only");
        assert_eq!(t.get("GET", "/ipp/v1/locations"), None);
        assert_eq!(t.len(), 5);
    }

    #[test]
    fn a_literal_path_a_template_also_matches_is_refused() {
        let e = |m: &str, p: &str| (m.to_owned(), p.to_owned(), ());
        assert!(RouteTable::new(vec![e("GET", "/a/me"), e("GET", "/a/{id}")]).is_err());
        assert!(RouteTable::new(vec![e("GET", "/a/me"), e("PUT", "/a/{id}")]).is_ok(), "other methods do not clash");
    }
}
