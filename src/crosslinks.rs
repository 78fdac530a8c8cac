//! The cross-link graph of a post: which of its platforms' templates link which other
//! platform's post (`published.<platform>.url`). A property of rendered posts, read by
//! `check` (a cycle, or a template linking its own platform, is an error) and by the
//! publish run (a post waits for the platforms it links).

use crate::content::Post;
use crate::diag::Diagnostic;
use crate::platforms::{Output, PlatformId, Rendered};
use crate::project::Project;

/// The platforms `rendered`'s template links (`published.<platform>.url`) among
/// `targets`: the post waits for them on `rendered`'s platform.
pub fn links(project: &Project, rendered: &dyn Output, targets: &[PlatformId]) -> Vec<PlatformId> {
    let own = rendered.platform();
    project
        .templates
        .linked_platforms(rendered.template())
        .iter()
        .filter_map(|name| PlatformId::parse(name))
        .filter(|p| *p != own && targets.contains(p))
        .collect()
}

/// The cross-link errors of a post rendered for `targets`: a template that links the
/// post of the platform it renders for, and templates linking each other in a circle.
pub fn check(project: &Project, post: &Post, rendered: &[Rendered], targets: &[PlatformId]) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = rendered.iter().filter_map(|r| self_link(project, post, r.as_ref())).collect();
    out.extend(cycle_diagnostic(project, post, rendered, targets));
    out
}

/// A template that links its own platform's post would be published with a placeholder
/// there: the URL is only known once that very post is out.
fn self_link(project: &Project, post: &Post, rendered: &dyn Output) -> Option<Diagnostic> {
    let own = rendered.platform();
    let template = rendered.template();
    if !project.templates.linked_platforms(template).contains(own.name()) {
        return None;
    }
    let file = project.templates.source(template).map_or_else(|| template.to_owned(), |s| s.display.clone());
    Some(
        Diagnostic::error(
            "self-link",
            format!(
                "template `{template}` ({file}) links `published.{own}.url`, the URL of the very {own} post it renders: it is not known before that post is out, so it would be published as a placeholder"
            ),
        )
        .at(&post.source, post.head_span())
        .with_hint(format!(
            "give {own} a template without that link: `template:` under `{own}:` in the post"
        )),
    )
}

/// Templates that link each other's posts in a circle (the Threads teaser links the
/// dev.to article, whose template links the Threads post): no run could publish them.
fn cycle_diagnostic(
    project: &Project,
    post: &Post,
    rendered: &[Rendered],
    targets: &[PlatformId],
) -> Option<Diagnostic> {
    let edges: Vec<(PlatformId, Vec<PlatformId>)> =
        rendered.iter().map(|r| (r.platform(), links(project, r.as_ref(), targets))).collect();
    let cycle = cycle(&edges)?;
    let mut names: Vec<String> = cycle
        .iter()
        .map(|p| {
            let template = rendered.iter().find(|r| r.platform() == *p).map_or("", |r| r.template());
            format!("{p} (template `{template}`)")
        })
        .collect();
    names.push(cycle[0].to_string());
    Some(
        Diagnostic::error(
            "cross-link-cycle",
            format!("the templates link each other's posts in a circle: {}", names.join(" → ")),
        )
        .at(&post.source, post.head_span())
        .with_hint("one of them must be published first: remove the `published.<platform>.url` link from one template"),
    )
}

/// A cycle of cross-links among a post's platforms (A's template links B's post and
/// B's links A's), which no run could satisfy, as the platforms in the cycle.
pub fn cycle(edges: &[(PlatformId, Vec<PlatformId>)]) -> Option<Vec<PlatformId>> {
    // Depth-first search with the path on a stack; posts have a handful of platforms.
    fn visit(
        node: PlatformId,
        edges: &[(PlatformId, Vec<PlatformId>)],
        path: &mut Vec<PlatformId>,
        done: &mut Vec<PlatformId>,
    ) -> Option<Vec<PlatformId>> {
        if let Some(i) = path.iter().position(|p| *p == node) {
            return Some(path[i..].to_vec());
        }
        if done.contains(&node) {
            return None;
        }
        path.push(node);
        for next in edges.iter().filter(|(from, _)| *from == node).flat_map(|(_, to)| to) {
            if let Some(c) = visit(*next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.push(node);
        None
    }
    let mut done = Vec::new();
    edges.iter().find_map(|(from, _)| visit(*from, edges, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found() {
        let ids: Vec<PlatformId> = PlatformId::all().collect();
        let (a, b) = (ids[0], ids[1]);
        assert_eq!(cycle(&[(a, vec![b]), (b, vec![])]), None);
        assert_eq!(cycle(&[(a, vec![b]), (b, vec![a])]), Some(vec![a, b]));
        assert_eq!(cycle(&[(a, vec![a])]), Some(vec![a]));
        assert_eq!(cycle(&[]), None);
    }
}
