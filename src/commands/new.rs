//! `crier new SLUG`: scaffold a post (a draft, so it never goes out by accident).

use super::{Global, Outcome, open_project};
use crate::cli::NewArgs;
use crate::error::{Error, Result};

pub fn execute(g: &Global, args: &NewArgs) -> Result<Outcome> {
    let project = open_project(g)?;
    // A SLUG that ends in a post's extension chooses the format (`x.yaml` is a YAML post),
    // so `new x.yaml` never makes `x.md`; `.md` with `--yaml` asks for both.
    let given =
        ["md", "yaml", "yml"].into_iter().find_map(|ext| Some((args.slug.strip_suffix(&format!(".{ext}"))?, ext)));
    let (slug, ext) = match given {
        Some((_, "md")) if args.yaml => {
            return Err(Error::usage(format!(
                "`{}` names a Markdown post, but --yaml asks for YAML: give the name without `.md` (or end it in `.yaml`)",
                args.slug
            )));
        }
        Some((slug, ext)) => (slug, ext),
        None => (args.slug.as_str(), if args.yaml { "yaml" } else { "md" }),
    };
    let valid = !slug.is_empty()
        && slug.split('/').all(|seg| !seg.is_empty() && !seg.starts_with(['.', '_']) && seg != "..")
        && slug.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'));
    if !valid {
        return Err(Error::usage(format!(
            "`{}` is not a usable post name: use letters, digits and `-` (folders with `/`), not starting with `.` or `_`",
            args.slug
        )));
    }
    let rel = format!("{}/{slug}.{ext}", project.config.content_dir);
    let path = project.root.join(&rel);
    // One slug, one post: a file of it in any post format is the post already.
    for taken in [ext, "md", "yaml", "yml"].map(|e| format!("{}/{slug}.{e}", project.config.content_dir)) {
        if project.root.join(&taken).exists() {
            return Err(Error::usage(format!("`{taken}` already exists")));
        }
    }
    let name = slug.rsplit('/').next().unwrap_or(slug);
    let title = title_from_slug(name);
    let platforms =
        if project.config.defaults.platforms.is_empty() { "platforms: [threads]\n".to_owned() } else { String::new() };
    let text = if ext != "md" {
        format!(
            "# Remove `draft: true` (or set it to false) when the post is ready.\ntitle: \"{title}\"\n{platforms}draft: true\n# publish_at: 2030-01-01T09:00:00Z\ntext: |\n  Write the post here.\n"
        )
    } else {
        format!(
            "---\ntitle: \"{title}\"\n{platforms}draft: true  # remove when the post is ready\n# publish_at: 2030-01-01T09:00:00Z\n---\n\nWrite the post here.\n\nA `---` line with a blank line before it starts the next post of a Threads chain.\n"
        )
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(format!("cannot create `{}`", parent.display()), e))?;
    }
    crate::fsutil::write_new(&path, text.as_bytes()).map_err(|e| Error::io(format!("cannot write `{rel}`"), e))?;
    if !g.quiet {
        println!("created {rel}");
    }
    Ok(Outcome::Success)
}

fn title_from_slug(slug: &str) -> String {
    let words: Vec<String> = slug
        .split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| {
            let mut c = w.chars();
            match c.next() {
                Some(f) if i == 0 => f.to_uppercase().chain(c).collect(),
                _ => w.to_owned(),
            }
        })
        .collect();
    words.join(" ").replace('"', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_slugs() {
        assert_eq!(title_from_slug("hello-world"), "Hello world");
        assert_eq!(title_from_slug("v0.2_release"), "V0 2 release");
    }
}
