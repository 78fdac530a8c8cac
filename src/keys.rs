//! The keys a platform adds to a post (its `<platform>:` mapping) and to `crier.yaml` (its
//! section), declared as types in the platform's folder and registered through
//! `platforms::Platform`.
//!
//! This module sits below `content` and `config`: they parse a file against a [`Catalog`]
//! handed to them (built once by `platforms::catalog`), so neither names a platform nor
//! imports the platforms. A declared type is parsed through a type-erased deserializer, so
//! its keys keep their positions (`Spanned`) and its errors the usual diagnostics; the
//! JSON Schemas of `crier schema` are generated from the same types.

use std::any::Any;
use std::borrow::Cow;
use std::fmt::{self, Debug};
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_saphyr::Spanned;

/// A platform's keys in one place (a post, or crier.yaml). `text` and `template` are the
/// overrides crate-wide code asks about (whether a post has content, which templates it uses).
pub trait Options: DeserializeOwned + Serialize + JsonSchema + Debug + Send + Sync + 'static {
    /// The `text` override, when the mapping has one.
    fn text(&self) -> Option<&Spanned<String>> {
        None
    }

    /// The `template` override, when the mapping has one.
    fn template(&self) -> Option<&Spanned<String>> {
        None
    }
}

/// How a key's type shows in a JSON Schema: without its [`Spanned`] wrappers (an
/// `Option<Spanned<Vec<Spanned<String>>>>` is an optional list of strings). `Spanned` is
/// foreign and has no schema of its own; [`spanned_keys!`] builds a struct's schema from this.
pub trait Unspanned {
    type Plain: JsonSchema;
}

impl<T: Unspanned> Unspanned for Spanned<T> {
    type Plain = T::Plain;
}

impl<T: Unspanned> Unspanned for Option<T> {
    type Plain = Option<T::Plain>;
}

impl<T: Unspanned> Unspanned for Vec<T> {
    type Plain = Vec<T::Plain>;
}

/// Types whose schema is their own: `plain!(SplitMode, NostrKind);`.
macro_rules! plain {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::keys::Unspanned for $t {
            type Plain = Self;
        })*
    };
}
pub(crate) use plain;

plain!(String, bool, u64);

/// A mapping of keys that keep their positions: the struct, with the derives and
/// `deny_unknown_fields` every such mapping has, and its JSON Schema from the same fields
/// seen through [`Unspanned`] (so no field needs `#[schemars(with = …)]`). With
/// `: Options(text, template)` it is a platform's [`Options`] and those fields are its
/// overrides. The attributes above the struct (its docs, `#[derive(Default)]`) go to both.
///
/// ```text
/// spanned_keys! {
///     /// `demo:` overrides of a post.
///     #[derive(Default)]
///     pub struct DemoOptions: Options(text) {
///         pub text: Option<Spanned<String>>,
///         pub count: Option<Spanned<u64>>,
///     }
/// }
/// ```
macro_rules! spanned_keys {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident $(: Options($($accessor:ident),* $(,)?))? {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident: $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, ::serde::Deserialize, ::serde::Serialize)]
        #[serde(deny_unknown_fields)]
        $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $ty,)*
        }

        impl $crate::keys::Unspanned for $name {
            type Plain = Self;
        }

        const _: () = {
            // The schema's view of the struct: the same docs and keys, plain types.
            $(#[$meta])*
            #[derive(::schemars::JsonSchema)]
            #[serde(deny_unknown_fields)]
            #[allow(dead_code)]
            struct Plain {
                $($(#[$field_meta])* $field: <$ty as $crate::keys::Unspanned>::Plain,)*
            }

            impl ::schemars::JsonSchema for $name {
                fn schema_name() -> ::std::borrow::Cow<'static, str> {
                    stringify!($name).into()
                }

                fn schema_id() -> ::std::borrow::Cow<'static, str> {
                    concat!(module_path!(), "::", stringify!($name)).into()
                }

                fn json_schema(generator: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                    <Plain as ::schemars::JsonSchema>::json_schema(generator)
                }
            }
        };

        $(impl $crate::keys::Options for $name {
            $(fn $accessor(&self) -> Option<&::serde_saphyr::Spanned<String>> {
                self.$accessor.as_ref()
            })*
        })?
    };
}
pub(crate) use spanned_keys;

/// A platform's `<platform>:` mapping in a post: [`spanned_keys!`] with the `text` and
/// `template` overrides every platform that writes a text has, their docs naming the
/// platform (`text` takes more words after `with text`), then the platform's own keys.
///
/// ```text
/// post_options! {
///     /// `demo:` overrides of a post.
///     pub struct DemoOptions for "Demo" {
///         pub count: Option<Spanned<u64>>,
///     }
/// }
/// ```
macro_rules! post_options {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident for $platform:literal $(with text $more:literal)? {
            $($fields:tt)*
        }
    ) => {
        $crate::keys::spanned_keys! {
            $(#[$meta])*
            #[derive(Default)]
            $vis struct $name: Options(text, template) {
                #[doc = concat!("The text on ", $platform, " instead of the post's", $($more,)? ".")]
                pub text: Option<::serde_saphyr::Spanned<String>>,
                #[doc = concat!("The template to render with on ", $platform, ".")]
                pub template: Option<::serde_saphyr::Spanned<String>>,
                $($fields)*
            }
        }
    };
}
pub(crate) use post_options;

/// A key whose value is one of a few lower-case words (`split: auto`, `kind: article`):
/// the enum, with the derives such a value has, and its schema as its own
/// ([`Unspanned`]). Mark the default variant `#[default]`.
macro_rules! key_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ::serde::Deserialize, ::serde::Serialize, ::schemars::JsonSchema)]
        #[serde(rename_all = "lowercase")]
        $vis enum $name { $($body)* }

        $crate::keys::plain!($name);
    };
}
pub(crate) use key_enum;

/// A platform's `crier.yaml` section: the struct, with the derives every section has,
/// `deny_unknown_fields`, `default` (a key left out keeps its default), its `Default` and
/// its [`Options`] impl. Each field's default is its type's, or, when every field names
/// one, the value after `=`:
///
/// ```text
/// config_section! {
///     /// `demo:` in crier.yaml.
///     pub struct DemoConfig {
///         pub max_bytes: u64 = 2_000_000,
///     }
/// }
/// ```
macro_rules! config_section {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident: $ty:ty = $default:expr),* $(,)?
        }
    ) => {
        $crate::keys::config_section!(@struct $(#[$meta])* $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $ty,)*
        });

        impl Default for $name {
            fn default() -> Self {
                Self { $($field: $default,)* }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident: $ty:ty),* $(,)?
        }
    ) => {
        $crate::keys::config_section!(@struct $(#[$meta])* #[derive(Default)] $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $ty,)*
        });
    };
    (@struct $(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, ::serde::Deserialize, ::serde::Serialize, ::schemars::JsonSchema)]
        #[serde(deny_unknown_fields, default)]
        $vis struct $name { $($body)* }

        impl $crate::keys::Options for $name {}
    };
}
pub(crate) use config_section;

/// A platform's name, as schemas list it: one of [`crate::platform_id::NAMES`] (for
/// `#[schemars(with = …)]` on a list of names).
pub struct PlatformName;

impl JsonSchema for PlatformName {
    fn schema_name() -> Cow<'static, str> {
        "PlatformName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "type": "string", "enum": crate::platform_id::NAMES })
    }
}

/// A parsed mapping, type-erased.
trait Stored: Debug + Send + Sync + erased_serde::Serialize {
    fn as_any(&self) -> &dyn Any;
    fn text(&self) -> Option<&Spanned<String>>;
    fn template(&self) -> Option<&Spanned<String>>;
}

impl<T: Options> Stored for Spanned<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn text(&self) -> Option<&Spanned<String>> {
        self.value.text()
    }
    fn template(&self) -> Option<&Spanned<String>> {
        self.value.template()
    }
}

erased_serde::serialize_trait_object!(Stored);

type ParseFn = fn(&mut dyn erased_serde::Deserializer<'_>) -> Result<Option<Arc<dyn Stored>>, erased_serde::Error>;

/// One declared mapping: how to parse it and its JSON Schema.
#[derive(Clone, Copy)]
pub struct Section {
    parse: ParseFn,
    schema: fn(&mut SchemaGenerator) -> Schema,
}

impl Section {
    /// The mapping is `T`.
    pub fn of<T: Options>() -> Self {
        // An empty mapping (only comments under the key) is null in YAML: as if absent.
        fn parse<T: Options>(
            d: &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<Option<Arc<dyn Stored>>, erased_serde::Error> {
            let value = erased_serde::deserialize::<Option<Spanned<T>>>(d)?;
            Ok(value.map(|v| Arc::new(v) as Arc<dyn Stored>))
        }
        fn schema<T: Options>(g: &mut SchemaGenerator) -> Schema {
            g.subschema_for::<Option<T>>()
        }
        Self { parse: parse::<T>, schema: schema::<T> }
    }
}

impl Debug for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Section")
    }
}

/// What one platform declares.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    /// The platform's name: the key of its mappings.
    pub name: &'static str,
    /// Its `<name>:` mapping in a post.
    pub post: Option<Section>,
    /// Its `<name>:` section of crier.yaml.
    pub config: Option<Section>,
}

/// Every platform's declarations, in registry order.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    declared: Vec<Declared>,
}

/// Which of a platform's mappings a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Post,
    Config,
}

impl Catalog {
    pub fn new(declared: Vec<Declared>) -> Self {
        Self { declared }
    }

    fn sections(&self, place: Place) -> impl Iterator<Item = (&'static str, Section)> + '_ {
        self.declared.iter().filter_map(move |d| {
            let s = match place {
                Place::Post => d.post,
                Place::Config => d.config,
            };
            s.map(|s| (d.name, s))
        })
    }

    /// The JSON Schema (draft 2020-12) of a file whose generic keys are `Core`, with every
    /// platform's mapping added as a property. Subschemas are inlined: editors show them in
    /// place, and [`key_places`] finds every key.
    pub fn schema<Core: JsonSchema>(&self, place: Place) -> Schema {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12()
            .for_deserialize()
            .with(|s| s.inline_subschemas = true)
            .into_generator();
        let mut root = generator.root_schema_for::<Core>();
        let sections: Vec<(&str, Schema)> =
            self.sections(place).map(|(name, s)| (name, (s.schema)(&mut generator))).collect();
        if let Some(Value::Object(props)) = root.get_mut("properties") {
            for (name, schema) in sections {
                props.insert(name.to_owned(), schema.to_value());
            }
        }
        root
    }

    /// Parses a file's mapping: `Core` takes the generic keys (and rejects unknown ones),
    /// each platform's section its own.
    /// No mapping found yet (a file without keys).
    pub fn empty(&self, place: Place) -> Sections {
        Sections { declared: self.sections(place).map(|(n, _)| n).collect(), found: Vec::new() }
    }

    pub(crate) fn seed<Core>(
        &self,
        place: Place,
        name: &'static str,
        fields: &'static [&'static str],
    ) -> FileSeed<'_, Core> {
        FileSeed { catalog: self, place, name, fields, core: std::marker::PhantomData }
    }
}

/// Every key of `schema` with the mapping that takes it (for an unknown key's hint): the
/// mapping as a path of keys, `""` for the top level, `[]` after a list (`thread[].media[]`).
pub fn key_places(schema: &Schema) -> Vec<(String, String)> {
    fn walk(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
        let Value::Object(map) = v else { return };
        for (k, v) in map {
            match (k.as_str(), v) {
                ("properties", Value::Object(props)) => {
                    for (key, sub) in props {
                        out.push((path.to_owned(), key.clone()));
                        let inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                        walk(sub, &inner, out);
                    }
                }
                ("items", v) => walk(v, &format!("{path}[]"), out),
                ("anyOf" | "oneOf" | "allOf", Value::Array(alts)) => alts.iter().for_each(|v| walk(v, path, out)),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(schema.as_value(), "", &mut out);
    out
}

/// The platform mappings parsed from one file, by platform name.
#[derive(Debug, Clone, Default)]
pub struct Sections {
    /// Every platform that declares a mapping in this place, found or not.
    declared: Vec<&'static str>,
    found: Vec<(&'static str, Arc<dyn Stored>)>,
}

impl Sections {
    /// The mapping of type `T` (there is at most one: a platform declares one per place).
    pub fn get<T: Options>(&self) -> Option<&Spanned<T>> {
        self.found.iter().find_map(|(_, v)| v.as_any().downcast_ref::<Spanned<T>>())
    }

    /// The section of type `T`, or its defaults when the file has none.
    pub fn get_or_default<T: Options + Default + Clone>(&self) -> Cow<'_, T> {
        self.get::<T>().map_or_else(|| Cow::Owned(T::default()), |s| Cow::Borrowed(&s.value))
    }

    /// Whether any platform's mapping sets `text`.
    pub fn any_text(&self) -> bool {
        self.found.iter().any(|(_, v)| v.text().is_some())
    }

    /// Every `text` override, in file order.
    pub fn texts(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.found.iter().filter_map(|(_, v)| v.text())
    }

    /// Every `template` override, in file order.
    pub fn templates(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.found.iter().filter_map(|(_, v)| v.template())
    }
}

/// A map from platform name to its mapping, `null` for a declared platform the file leaves
/// out (so templates see the same keys on every post).
impl Serialize for Sections {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.declared.len()))?;
        for name in &self.declared {
            match self.found.iter().find(|(n, _)| n == name) {
                Some((_, v)) => map.serialize_entry(name, v.as_ref())?,
                None => map.serialize_entry(name, &Option::<()>::None)?,
            }
        }
        map.end()
    }
}

/// Parses a whole file: the generic keys into `Core`, the platform keys into [`Sections`].
pub(crate) struct FileSeed<'a, Core> {
    catalog: &'a Catalog,
    place: Place,
    name: &'static str,
    fields: &'static [&'static str],
    core: std::marker::PhantomData<Core>,
}

impl<'de, Core: Deserialize<'de>> DeserializeSeed<'de> for FileSeed<'_, Core> {
    type Value = (Core, Sections);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let (name, fields) = (self.name, self.fields);
        deserializer.deserialize_struct(name, fields, self)
    }
}

impl<'de, Core: Deserialize<'de>> Visitor<'de> for FileSeed<'_, Core> {
    type Value = (Core, Sections);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping of keys")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let sections = self.catalog.empty(self.place);
        let mut split = Split { map, catalog: self.catalog, place: self.place, sections };
        let core = Core::deserialize(de::value::MapAccessDeserializer::new(&mut split))?;
        Ok((core, split.sections))
    }
}

/// A map access that takes platform keys out and hands the others on to `Core`.
struct Split<'a, A> {
    map: A,
    catalog: &'a Catalog,
    place: Place,
    sections: Sections,
}

enum Key<K> {
    Core(K),
    Platform(&'static str, Section),
}

/// Reads a key inside the YAML deserializer (so errors about it point at it): a platform's
/// name becomes [`Key::Platform`], anything else goes to `Core`'s field seed.
struct KeySeed<'s, 'a, K> {
    core: &'s mut Option<K>,
    catalog: &'a Catalog,
    place: Place,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, '_, K> {
    type Value = Key<K::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let key = String::deserialize(deserializer)?;
        if let Some((name, section)) = self.catalog.sections(self.place).find(|(n, _)| *n == key) {
            return Ok(Key::Platform(name, section));
        }
        let seed = self.core.take().ok_or_else(|| de::Error::custom("a key was read twice"))?;
        seed.deserialize(key.into_deserializer()).map(Key::Core)
    }
}

struct SectionSeed(Section);

impl<'de> DeserializeSeed<'de> for SectionSeed {
    type Value = Option<Arc<dyn Stored>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let mut erased = <dyn erased_serde::Deserializer<'_>>::erase(deserializer);
        // The erased error keeps the inner error's text, position included (`yaml` reads it).
        (self.0.parse)(&mut erased).map_err(de::Error::custom)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for &mut Split<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        let mut core = Some(seed);
        loop {
            let key = KeySeed { core: &mut core, catalog: self.catalog, place: self.place };
            match self.map.next_key_seed(key)? {
                None => return Ok(None),
                Some(Key::Core(k)) => return Ok(Some(k)),
                Some(Key::Platform(name, section)) => {
                    if let Some(value) = self.map.next_value_seed(SectionSeed(section))? {
                        self.sections.found.push((name, value));
                    }
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}
