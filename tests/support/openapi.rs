//! Checks a request against an OpenAPI 3.1 definition: the path matches one of its paths
//! (`{param}` segments against their schemas), the method is one of the path's
//! operations, every query parameter is declared and its value fits its schema, and the
//! JSON body (or a multipart body's `payload_json`) validates against the operation's
//! request body schema, with JSON Schema 2020-12 (what OpenAPI 3.1 schemas are) and
//! `$ref`s resolved inside the definition.
//!
//! A fake calls [`Spec::check`] on every request it receives and keeps the violations, so
//! a test can assert that nothing crier sent broke the official definition.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

/// Path parameters: (name, value).
type Params = Vec<(String, String)>;

/// A loaded definition, with its compiled validators (by JSON pointer).
pub(crate) struct Spec {
    doc: Value,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

/// What a check looks at.
pub(crate) struct Checked<'a> {
    pub(crate) method: &'a str,
    /// The path under the definition's server (e.g. `/webhooks/1/abc/messages/2`).
    pub(crate) path: &'a str,
    pub(crate) query: Vec<(String, String)>,
    /// `Content-Type` without parameters (`application/json`), when there is a body.
    pub(crate) content_type: Option<&'a str>,
    /// The JSON body, or the multipart body's `payload_json`.
    pub(crate) body: Option<Value>,
}

impl Spec {
    pub(crate) fn load(path: &str) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"));
        Self { doc, validators: Mutex::new(HashMap::new()) }
    }

    /// The violations of `req`, empty when it conforms.
    pub(crate) fn check(&self, req: &Checked<'_>) -> Vec<String> {
        let Some((template, params)) = self.path_item(req.path) else {
            return vec![format!("{} {}: no such path in the definition", req.method, req.path)];
        };
        let method = req.method.to_ascii_lowercase();
        let item = &self.doc["paths"][&template];
        let Some(op) = item.get(&method) else {
            return vec![format!("{} {template}: no such operation", req.method)];
        };
        let what = format!("{} {template}", req.method);
        let mut problems = Vec::new();
        let declared: Vec<&Value> = item["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(op["parameters"].as_array().into_iter().flatten())
            .collect();
        for (name, value) in &params {
            if let Some(p) = declared.iter().find(|p| p["in"] == "path" && p["name"] == name.as_str()) {
                problems.extend(self.parameter(&what, name, value, &p["schema"]));
            }
        }
        for (name, value) in &req.query {
            match declared.iter().find(|p| p["in"] == "query" && p["name"] == name.as_str()) {
                Some(p) => problems.extend(self.parameter(&what, name, value, &p["schema"])),
                None => problems.push(format!("{what}: undeclared query parameter `{name}`")),
            }
        }
        let body = &op["requestBody"];
        match (&req.body, req.content_type) {
            (Some(value), Some(ctype)) => {
                let key = ctype.replace('/', "~1");
                let pointer = format!(
                    "/paths/{}/{method}/requestBody/content/{key}/schema",
                    template.replace('~', "~0").replace('/', "~1")
                );
                if self.doc.pointer(&pointer).is_none() {
                    problems.push(format!("{what}: no request body of type {ctype}"));
                } else {
                    problems.extend(self.validate(&pointer, value).into_iter().map(|e| format!("{what}: body {e}")));
                }
            }
            (None, _) if body["required"] == json!(true) => problems.push(format!("{what}: the body is required")),
            _ => {}
        }
        problems
    }

    /// The path template `path` matches (a literal segment wins over a `{param}`), and
    /// the parameters it binds.
    fn path_item(&self, path: &str) -> Option<(String, Params)> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        // (literal segments matched, template, parameters)
        let mut best: Option<(usize, String, Params)> = None;
        for template in self.doc["paths"].as_object()?.keys() {
            let tsegs: Vec<&str> = template.trim_matches('/').split('/').collect();
            if tsegs.len() != segs.len() {
                continue;
            }
            let mut literal = 0;
            let mut params = Vec::new();
            let ok =
                tsegs.iter().zip(&segs).all(|(t, s)| match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    Some(name) => {
                        params.push((name.to_owned(), (*s).to_owned()));
                        true
                    }
                    None => {
                        literal += 1;
                        t == s
                    }
                });
            if ok && best.as_ref().is_none_or(|(l, ..)| literal > *l) {
                best = Some((literal, template.clone(), params));
            }
        }
        best.map(|(_, t, p)| (t, p))
    }

    /// A path or query value against its schema: as a string, or as the boolean or
    /// number the schema wants.
    fn parameter(&self, what: &str, name: &str, value: &str, schema: &Value) -> Vec<String> {
        let resolved = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => self.doc.pointer(r.trim_start_matches('#')).cloned().unwrap_or(Value::Null),
            None => schema.clone(),
        };
        let typed = match resolved["type"].as_str() {
            Some("boolean") => match value {
                "true" => json!(true),
                "false" => json!(false),
                _ => json!(value),
            },
            Some("integer" | "number") => value.parse::<f64>().map_or_else(|_| json!(value), |n| json!(n)),
            _ => json!(value),
        };
        let validator = match jsonschema::draft202012::new(&self.rooted_schema(schema)) {
            Ok(v) => v,
            Err(e) => return vec![format!("{what}: the schema of `{name}` does not compile: {e}")],
        };
        validator.iter_errors(&typed).map(|e| format!("{what}: parameter `{name}`={value}: {e}")).collect()
    }

    /// `schema` with the definition's components beside it, so its `$ref`s resolve.
    fn rooted_schema(&self, schema: &Value) -> Value {
        json!({"allOf": [schema], "components": self.doc["components"]})
    }

    fn validate(&self, pointer: &str, value: &Value) -> Vec<String> {
        let validator = {
            let mut cache = self.validators.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match cache.get(pointer) {
                Some(v) => v.clone(),
                None => {
                    let schema = self.doc.pointer(pointer).cloned().unwrap_or(Value::Null);
                    match jsonschema::draft202012::new(&self.rooted_schema(&schema)) {
                        Ok(v) => {
                            let v = std::sync::Arc::new(v);
                            cache.insert(pointer.to_owned(), v.clone());
                            v
                        }
                        Err(e) => return vec![format!("does not compile: {e}")],
                    }
                }
            }
        };
        validator.iter_errors(value).map(|e| format!("at `{}`: {e}", e.instance_path())).collect()
    }
}
