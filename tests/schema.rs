//! `crier schema post|config`: the JSON Schemas validate the repository's own posts and
//! crier.yaml, reject what `check` rejects as an unknown key, and `crier init` writes them
//! where its crier.yaml points editors.

#[path = "cli/harness.rs"]
#[allow(dead_code)] // the other helpers serve tests/cli.rs
mod harness;

use std::path::Path;

use crier::content::{FileKind, split_front_matter};
use crier::diag::SourceFile;
use harness::{Repo, manifest_dir};
use serde_json::Value;

/// A validator for the schema `crier schema KIND` prints.
fn validator(kind: &str) -> jsonschema::Validator {
    let run = Repo::new().run(&["schema", kind]);
    run.code(0);
    let schema = run.json();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema", "draft 2020-12");
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("`crier schema {kind}` is not a valid schema: {e}"))
}

/// A YAML document as the JSON value a schema sees.
fn yaml_value(yaml: &str) -> Value {
    if yaml.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("YAML: {e}\n{yaml}"))
}

/// The front matter of a post file (a YAML post is all front matter).
fn front_matter(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read a post");
    match FileKind::of(path) {
        FileKind::Yaml => yaml_value(&text),
        FileKind::Markdown => {
            let source = SourceFile::new(path.display().to_string(), text.as_str());
            let split = split_front_matter(&source).expect("front matter closes");
            yaml_value(split.map_or("", |s| &text[s.yaml]))
        }
    }
}

/// The errors of `value` against `validator`, one line each.
fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator.iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

fn posts_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read content/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(['_', '.']) {
            continue; // not posts, as crier's discovery sees them
        }
        if path.is_dir() {
            posts_under(&path, out);
        } else if name.ends_with(".md") || name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}

#[test]
fn the_repositorys_own_posts_and_config_match_the_schemas() {
    let post = validator("post");
    let mut files = Vec::new();
    posts_under(&manifest_dir().join("content"), &mut files);
    assert!(files.len() >= 5, "the repository's posts were found: {files:?}");
    for file in &files {
        let errs = errors(&post, &front_matter(file));
        assert!(errs.is_empty(), "{} does not match `crier schema post`:\n{}", file.display(), errs.join("\n"));
    }
    let config = validator("config");
    let yaml = std::fs::read_to_string(manifest_dir().join("crier.yaml")).expect("crier.yaml");
    let errs = errors(&config, &yaml_value(&yaml));
    assert!(errs.is_empty(), "crier.yaml does not match `crier schema config`:\n{}", errs.join("\n"));
}

/// `crier schema KIND` accepts `valid` and rejects each of `invalid`.
#[track_caller]
fn accepts_and_rejects(kind: &str, valid: &str, invalid: &[&str]) {
    let schema = validator(kind);
    assert_eq!(errors(&schema, &yaml_value(valid)), Vec::<String>::new(), "`crier schema {kind}`");
    for bad in invalid {
        assert!(!schema.is_valid(&yaml_value(bad)), "`crier schema {kind}` accepts {bad:?}");
    }
}

#[test]
fn the_schemas_know_every_platforms_keys_and_reject_unknown_ones() {
    let valid = "title: Hi\nplatforms: [threads, devto, bluesky, mastodon, linkedin, discord, x]\nthread: [one, {text: two, media: [{path: a.png, alt: A}]}]\nthreads: {topic_tag: Rust, split: attachment, poll: {options: [a, b]}, ghost: true}\ndevto: {series: s, published: false, organization_id: 4}\nbluesky: {langs: [en], link_card: false, split: auto}\nmastodon: {visibility: unlisted, sensitive: true, language: en}\nlinkedin: {text: hi, visibility: CONNECTIONS, link_card: false}\ndiscord: {username: Bot, thread_name: Hi, suppress_embeds: true, split: auto}\nx: {split: auto, reply_settings: following, poll: {options: [a, b], duration_minutes: 60}}\n";
    let invalid = [
        "titel: Hi\n",
        "threads: {topic: Rust}\n",
        "threads: {split: sometimes}\n",
        "threads: {poll: {choices: [a, b]}}\n",
        "devto: {organization_id: many}\n",
        "bluesky: {lang: [en]}\n",
        "mastodon: {visibility: [public]}\n",
        "discord: {suppress_embeds: maybe}\n",
        "discord: {webhook: https://discord.com/api/webhooks/1/t}\n",
        "thread: [{txt: a}]\n",
        "linkedin: {link_cards: false}\n",
        "platforms: [threads, myspace]\n",
        "x: {poll: {options: [a, b], minutes: 60}}\n",
        "x: {reply_settings: [following]}\n",
    ];
    accepts_and_rejects("post", valid, &invalid);

    let valid = "defaults: {platforms: [threads]}\nmedia:\npublish: {max_per_run: 3, x_max_cost_per_run: 1.5}\nbluesky: {max_image_bytes: 1000000}\nmastodon: {instance: https://example.social, max_characters: 1000}\nlinkedin: {version: \"202510\"}\nx: {prices: {post: 0.02, post_with_url: 0.25}}\nstats: {x: true}\n";
    let invalid = [
        "mastodon: {max_charcters: 5}\n",
        "bluesky: {max_image_bytes: big}\n",
        "linkedin: {versions: \"202510\"}\n",
        "publsh: {}\n",
        "threads: {}\n",
        "defaults: {platforms: [tiktok]}\n",
        "x: {prices: {post: free}}\n",
        "publish: {x_max_cost_per_run: lots}\n",
    ];
    accepts_and_rejects("config", valid, &invalid);
}

#[test]
fn init_writes_the_schemas_and_points_crier_yaml_at_them() {
    let repo = Repo::new();
    repo.run(&["init"]).code(0);
    let config = repo.read("crier.yaml");
    assert_eq!(config.lines().next(), Some("# yaml-language-server: $schema=.crier/schema/config.json"));
    for kind in ["config", "post"] {
        let printed = repo.run(&["schema", kind]).stdout;
        assert_eq!(repo.read(&format!(".crier/schema/{kind}.json")), printed, "{kind} schema as printed");
    }
    // What init wrote matches what it points at.
    let errs = errors(&validator("config"), &yaml_value(&config));
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}
