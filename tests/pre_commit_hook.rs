//! `.pre-commit-hooks.yaml` follows the pre-commit framework's manifest schema (the keys
//! and types its `validate-manifest` checks), and its `crier-check` hook runs `crier check`
//! on the post files of a commit. When the `pre-commit` program is installed, its own
//! validator is run on the file too.

use std::path::Path;

use serde_json::Value;

const MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.pre-commit-hooks.yaml");

/// Every key pre-commit's manifest schema knows, with the JSON type it requires.
const KEYS: &[(&str, &str)] = &[
    ("id", "string"),
    ("name", "string"),
    ("entry", "string"),
    ("language", "string"),
    ("alias", "string"),
    ("files", "string"),
    ("exclude", "string"),
    ("types", "array"),
    ("types_or", "array"),
    ("exclude_types", "array"),
    ("additional_dependencies", "array"),
    ("args", "array"),
    ("always_run", "bool"),
    ("fail_fast", "bool"),
    ("pass_filenames", "bool"),
    ("description", "string"),
    ("language_version", "string"),
    ("log_file", "string"),
    ("minimum_pre_commit_version", "string"),
    ("require_serial", "bool"),
    ("stages", "array"),
    ("verbose", "bool"),
];

/// The languages pre-commit supports.
const LANGUAGES: &[&str] = &[
    "conda",
    "coursier",
    "dart",
    "docker",
    "docker_image",
    "dotnet",
    "fail",
    "golang",
    "haskell",
    "julia",
    "lua",
    "node",
    "perl",
    "pygrep",
    "python",
    "r",
    "ruby",
    "rust",
    "swift",
    "system",
    "unsupported",
    "unsupported_script",
];

fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Bool(_) => "bool",
        _ => "other",
    }
}

#[test]
fn the_manifest_follows_the_schema() {
    let text = std::fs::read_to_string(MANIFEST).expect("the manifest exists");
    let hooks: Value = serde_saphyr::from_str(&text).expect("valid YAML");
    let hooks = hooks.as_array().expect("a list of hooks");
    assert!(!hooks.is_empty());
    for hook in hooks {
        let map = hook.as_object().expect("each hook is a mapping");
        for required in ["id", "name", "entry", "language"] {
            assert!(map.contains_key(required), "a hook lacks `{required}`: {hook}");
        }
        for (key, value) in map {
            let want = KEYS.iter().find(|(k, _)| k == key).map(|(_, t)| *t);
            assert_eq!(Some(kind(value)), want, "`{key}` is not a manifest key of that type");
        }
        let language = map["language"].as_str().unwrap_or_default();
        assert!(LANGUAGES.contains(&language), "unknown language `{language}`");
    }
    let check = hooks.iter().find(|h| h["id"] == "crier-check").expect("a crier-check hook");
    assert_eq!(check["entry"], "crier check");
    assert_eq!(check["language"], "rust", "pre-commit builds it from this repository with cargo");
    assert_ne!(check["pass_filenames"], false, "crier check receives the committed files");
    // Posts under content/ (a Python regex, searched from the start of the path).
    assert_eq!(check["files"], r"^content/.*\.(md|ya?ml)$");
}

#[test]
fn pre_commit_itself_accepts_the_manifest() {
    let Ok(out) = std::process::Command::new("pre-commit").arg("validate-manifest").arg(MANIFEST).output() else {
        eprintln!("pre-commit is not installed; `pip install pre-commit` to run its validator too");
        return;
    };
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(Path::new(MANIFEST).is_file());
}
