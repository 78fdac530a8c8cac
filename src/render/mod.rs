//! Rendering: Handlebars templates (built-in defaults overridable from
//! `templates/`), the template context, and Markdown → platform text.

pub mod context;
pub mod html;
pub mod templates;
pub mod text;

pub use templates::Templates;
