//! Query strings as Kustom reads them: every parameter with all its values, so that a scalar given
//! twice is seen (KCONV-15), and unknown parameters are ignored.

use std::collections::BTreeMap;

use super::problem::Problem;

/// A parsed query string.
#[derive(Debug, Default)]
pub(crate) struct Query(BTreeMap<String, Vec<String>>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Query(map)
    }

    /// A parameter that takes one value: `Err` (for `errors`) when given more than once.
    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, String> {
        match self.0.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(one.as_str())),
            Some(_) => Err("must be given at most once".into()),
        }
    }

    /// A repeatable parameter's values.
    pub(crate) fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Collects every invalid parameter (KERR-03) and gives the first failing rule.
#[derive(Default)]
pub(crate) struct Invalid {
    errors: BTreeMap<String, String>,
    rule: Option<&'static str>,
}

impl Invalid {
    pub(crate) fn add(&mut self, name: &str, message: impl Into<String>, rule: &'static str) {
        self.errors.entry(name.to_owned()).or_insert_with(|| message.into());
        self.rule.get_or_insert(rule);
    }

    pub(crate) fn check<T>(&mut self, name: &str, result: Result<T, String>, rule: &'static str) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(name, message, rule);
                None
            }
        }
    }

    pub(crate) fn finish(self) -> Result<(), Problem> {
        match self.rule {
            None => Ok(()),
            Some(rule) => Err(Problem::validation(self.errors, rule)),
        }
    }
}
