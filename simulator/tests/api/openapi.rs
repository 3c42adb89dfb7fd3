//! `schemas/openapi.yaml` against `schemas/catalog.json`: every route the catalogue maps has its
//! path and method in the OpenAPI document, and every schema file the document refers to exists.

use serde_json::Value;

fn read(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas").join(name)).expect("schema file")
}

/// The text of a path's block in the document: from `  /path:` to the next path.
fn block<'a>(doc: &'a str, path: &str) -> Option<&'a str> {
    let start = doc.find(&format!("\n  {path}:\n"))? + 1;
    let rest = &doc[start + 1..];
    let end = rest.find("\n  /").map_or(rest.len(), |i| i + 1);
    Some(&rest[..end])
}

#[test]
fn every_catalogued_route_is_in_the_openapi_document() {
    let doc = read("openapi.yaml");
    let catalog: Value = serde_json::from_str(&read("catalog.json")).expect("catalog");
    let mut missing = Vec::new();
    for key in catalog["responses"].as_object().expect("responses").keys() {
        let (method, path) = key.split_once(' ').expect("METHOD path");
        let ok = block(&doc, path).is_some_and(|b| b.contains(&format!("\n    {}:\n", method.to_lowercase())));
        if !ok {
            missing.push(key.clone());
        }
    }
    assert!(missing.is_empty(), "routes of catalog.json missing from openapi.yaml: {missing:?}");
    for reference in doc.split("$ref: './").skip(1) {
        let name = reference.split('\'').next().unwrap_or_default();
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas").join(name).exists(),
            "openapi.yaml refers to a missing {name}"
        );
    }
}
