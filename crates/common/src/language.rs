//! Two languages: English and Simplified Chinese.
//!
//! What Assay says to people (the evidence behind a verdict, the reason a seller is warned
//! or suspended, a report's headings) is kept as [`Message`]s: an id in a Fluent catalogue
//! and its arguments. A [`Catalogue`] writes them in a [`Language`]. Each call's language is
//! the caller's preference, read from its `accept-language` header ([`Language::negotiate`])
//! by [`rpcs!`](crate::rpcs) and kept for the call in a task-local ([`current`]).
//!
//! Arguments are language-neutral: texts quoted as Rust quotes them (so that control and
//! direction characters show as escapes), names and ids as they are, and whole numbers; a
//! `count` is one the catalogue may choose a plural form by (`1 strike`, `2 strikes`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use assay_proto::common::v1::Message;
pub use assay_proto::message::Text;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

mod template;
use template::Templates;

/// A language Assay writes in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// English, the default.
    #[default]
    English,
    /// Simplified Chinese.
    SimplifiedChinese,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::SimplifiedChinese];

    /// Its BCP 47 tag: `en`, `zh-Hans`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::SimplifiedChinese => "zh-Hans",
        }
    }

    /// The language for one BCP 47 tag, if Assay writes it: `en` and any English, `zh`,
    /// `zh-Hans`, `zh-CN`, `zh-SG` and the like. Chinese in Traditional characters (`zh-Hant`,
    /// `zh-TW`, `zh-HK`, `zh-MO`) is not Simplified Chinese.
    pub fn of_tag(tag: &str) -> Option<Language> {
        let id: LanguageIdentifier = tag.trim().parse().ok()?;
        match id.language.as_str() {
            "en" => Some(Language::English),
            "zh" => {
                let traditional = match id.script {
                    Some(script) => script.as_str() == "Hant",
                    None => id
                        .region
                        .is_some_and(|r| matches!(r.as_str(), "TW" | "HK" | "MO")),
                };
                (!traditional).then_some(Language::SimplifiedChinese)
            }
            _ => None,
        }
    }

    /// The language to answer in for an `accept-language` value (`zh-CN,zh;q=0.9,en;q=0.8`):
    /// the one the caller prefers most of those Assay writes, English if none. Work is
    /// bounded: at most the first 16 entries of the first 512 characters are read.
    pub fn negotiate(accept_language: &str) -> Language {
        let value = match accept_language.char_indices().nth(512) {
            Some((end, _)) => &accept_language[..end],
            None => accept_language,
        };
        let mut best: Option<(f32, Language)> = None;
        for entry in value.split(',').take(16) {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| (0.0..=1.0).contains(q) && *q > 0.0);
            if let (Some(weight), Some(language)) = (weight, Language::of_tag(tag))
                // The first of equal weights wins.
                && best.is_none_or(|(w, _)| weight > w)
            {
                best = Some((weight, language));
            }
        }
        best.map(|(_, language)| language).unwrap_or_default()
    }

    /// The language of the process's locale (`LC_ALL`, `LC_MESSAGES`, then `LANG`, as in
    /// `zh_CN.UTF-8`), for a command line; English if it names none Assay writes.
    pub fn of_locale() -> Language {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.is_empty())
            .and_then(|value| {
                let tag = value.split(['.', '@']).next().unwrap_or_default();
                Language::of_tag(&tag.replace('_', "-"))
            })
            .unwrap_or_default()
    }

    /// The language of a call's metadata.
    pub fn of_metadata(metadata: &tonic::metadata::MetadataMap) -> Language {
        metadata
            .get("accept-language")
            .and_then(|v| v.to_str().ok())
            .map(Language::negotiate)
            .unwrap_or_default()
    }
}

tokio::task_local! {
    static LANGUAGE: Language;
}

/// The language of the call being served; English outside a call.
pub fn current() -> Language {
    LANGUAGE.try_with(|l| *l).unwrap_or_default()
}

/// Runs `work` as a call in `language`.
pub async fn speaking<F: Future>(language: Language, work: F) -> F::Output {
    LANGUAGE.scope(language, work).await
}

/// Declares a crate's catalogue, `locales/en.ftl` and `locales/zh-Hans.ftl` of the crate,
/// as a lazily built static, with a test that both languages have every message with the
/// same arguments.
///
/// ```ignore
/// assay_common::catalogue!(pub static CATALOGUE);
/// ```
#[macro_export]
macro_rules! catalogue {
    ($(#[$meta:meta])* $vis:vis static $name:ident) => {
        $(#[$meta])*
        $vis static $name: ::std::sync::LazyLock<$crate::language::Catalogue> =
            ::std::sync::LazyLock::new(|| {
                $crate::language::Catalogue::new(&[
                    (
                        $crate::language::Language::English,
                        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/locales/en.ftl")),
                    ),
                    (
                        $crate::language::Language::SimplifiedChinese,
                        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/locales/zh-Hans.ftl")),
                    ),
                ])
            });

        #[cfg(test)]
        #[test]
        fn both_languages_have_every_message_with_the_same_arguments() {
            assert_eq!($name.differences(), Vec::<String>::new());
        }

        #[cfg(test)]
        #[test]
        fn messages_written_without_fluent_are_written_as_fluent_writes_them() {
            assert_eq!($name.compiled_differences(), Vec::<String>::new());
        }
    };
}

/// A message of a catalogue: `message("seller-new-account", [("days", 3.to_string().into())])`.
/// Arguments given in order of name are taken as they are; in any other order, they are put
/// in order first.
pub fn message<const N: usize>(id: &'static str, args: [(&'static str, Text); N]) -> Message {
    Message::new(id, args.map(|(name, value)| (Text::Borrowed(name), value)))
}

/// A text quoted for an argument: `"Gucci"`, with control and direction characters escaped.
pub fn quoted(text: &str) -> Text {
    // Most texts need no escape: quoted as they are, without the escaping machinery.
    if text
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        let mut quoted = String::with_capacity(text.len() + 2);
        quoted.push('"');
        quoted.push_str(text);
        quoted.push('"');
        return quoted.into();
    }
    format!("{text:?}").into()
}

/// `LIST($codes, of: "link")` in a catalogue: a list argument (codes separated by commas,
/// `payment-account,address`) written as a list of the catalogue's own words, each code
/// its message `link-<code>`, joined by the messages `list-separator` and `list-and`
/// ("payment account and address", "支付账户和地址"). A value with a code the catalogue
/// has no word for (text kept before codes were) is written as it is.
fn list<'a>(
    words: &HashMap<&'static str, String>,
    positional: &[FluentValue<'a>],
    named: &FluentArgs,
) -> FluentValue<'a> {
    let (Some(FluentValue::String(value)), Some(FluentValue::String(of))) =
        (positional.first(), named.get("of"))
    else {
        return FluentValue::Error;
    };
    let written: Option<Vec<&str>> = value
        .split(',')
        .take(MAX_LIST)
        .map(|code| words.get(&*format!("{of}-{code}")).map(String::as_str))
        .collect();
    let Some(written) = written.filter(|w| !w.is_empty() && value.split(',').count() <= MAX_LIST)
    else {
        return FluentValue::String(value.clone());
    };
    let word = |id: &str, or: &'static str| words.get(id).map_or(or, String::as_str);
    let (separator, and) = (word("list-separator", ", "), word("list-and", " and "));
    let mut out = String::new();
    for (i, item) in written.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == written.len() {
                and
            } else {
                separator
            });
        }
        out.push_str(item);
    }
    FluentValue::String(out.into())
}

/// Codes a list argument holds at most.
pub const MAX_LIST: usize = 16;

/// The arguments that count things, which a message may choose a plural form by (`1 strike`,
/// `2 strikes`); any other argument is text, even when it reads as a number.
pub const COUNTS: [&str; 1] = ["count"];

/// The messages of a crate in every language, written as Fluent (`.ftl`) sources.
pub struct Catalogue {
    sources: Vec<(Language, &'static str)>,
    bundles: Vec<(Language, FluentBundle<FluentResource>)>,
    /// The messages of a simple shape, compiled to be written without Fluent's resolver.
    templates: Vec<(Language, Templates)>,
}

impl Catalogue {
    /// Builds a catalogue from one source per language. Panics on a source that does not
    /// parse: catalogues are compiled in, and each crate's tests build its own.
    pub fn new(sources: &[(Language, &'static str)]) -> Catalogue {
        let (mut bundles, mut templates) = (Vec::new(), Vec::new());
        for &(language, source) in sources {
            let resource =
                FluentResource::try_new(source.to_owned()).unwrap_or_else(|(_, errors)| {
                    panic!("the {} catalogue: {errors:?}", language.tag())
                });
            let id: LanguageIdentifier = language.tag().parse().expect("a valid tag");
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Arguments are shown as they are, without bidi isolation marks around them.
            bundle.set_use_isolating(false);
            let compiled = Templates::compile(source);
            let words = compiled.texts();
            bundle
                .add_function("LIST", move |positional, named| {
                    list(&words, positional, named)
                })
                .expect("one LIST function");
            bundle
                .add_resource(resource)
                .unwrap_or_else(|e| panic!("the {} catalogue: {e:?}", language.tag()));
            bundles.push((language, bundle));
            templates.push((language, compiled));
        }
        Catalogue {
            sources: sources.to_vec(),
            bundles,
            templates,
        }
    }

    fn source(&self, language: Language) -> Option<&'static str> {
        self.sources
            .iter()
            .find(|(l, _)| *l == language)
            .map(|(_, s)| *s)
    }

    fn bundle(&self, language: Language) -> &FluentBundle<FluentResource> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == language)
            .or_else(|| self.bundles.first())
            .map(|(_, b)| b)
            .expect("a catalogue has at least one language")
    }

    /// Appends one message, written in `language`, to `out`. A message the catalogue does
    /// not have is written as its id, so that nothing said is lost.
    pub fn write(&self, language: Language, message: &Message, out: &mut String) {
        if self
            .templates
            .iter()
            .find(|(l, _)| *l == language)
            .is_some_and(|(_, t)| t.write(&message.id, |name| message.arg(name), out))
        {
            return;
        }
        self.write_with_fluent(language, message, out);
    }

    /// [`Catalogue::write`] through Fluent's resolver, as every message can be.
    fn write_with_fluent(&self, language: Language, message: &Message, out: &mut String) {
        let bundle = self.bundle(language);
        let Some(pattern) = bundle.get_message(&message.id).and_then(|m| m.value()) else {
            out.push_str(&message.id);
            return;
        };
        let mut args = FluentArgs::with_capacity(message.args().len());
        for (name, value) in message.args() {
            let value = match value.parse::<u64>() {
                Ok(n) if COUNTS.contains(&name) && !value.starts_with('+') => FluentValue::from(n),
                _ => FluentValue::String(Cow::Borrowed(value)),
            };
            args.set(name, value);
        }
        let mut errors = Vec::new();
        // Written where it goes; writing to a String cannot fail.
        let _ = bundle.write_pattern(out, pattern, Some(&args), &mut errors);
    }

    /// Messages written one after another in `language`.
    pub fn say(&self, language: Language, messages: &[Message]) -> String {
        let mut out = String::with_capacity(160);
        for message in messages {
            self.write(language, message, &mut out);
        }
        out
    }

    /// One message with no arguments (a heading, a label) in `language`.
    pub fn text(&self, language: Language, id: &str) -> String {
        self.say(language, &[Message::new(id.to_owned(), [])])
    }

    /// Writes every message that is written without Fluent's resolver both ways, with every
    /// value its choices name and a text none names, and returns where the two differ. Each
    /// crate's tests call it on its catalogue.
    pub fn compiled_differences(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (language, templates) in &self.templates {
            for id in templates.ids() {
                let arguments = templates.arguments(id);
                let values: Vec<Vec<&str>> = arguments
                    .iter()
                    .map(|(_, keys)| keys.iter().copied().chain(["\"名\" x"]).collect())
                    .collect();
                // Every combination, up to a bound: the choices of one message are few.
                let combinations = values.iter().map(Vec::len).product::<usize>().min(512);
                for mut n in 0..combinations {
                    let message = Message::new(
                        id.to_owned(),
                        arguments.iter().zip(&values).map(|((name, _), values)| {
                            let value = values[n % values.len()];
                            n /= values.len();
                            (Text::Borrowed(name), Text::Owned(value.to_owned()))
                        }),
                    );
                    let (mut compiled, mut fluent) = (String::new(), String::new());
                    let written = templates.write(id, |name| message.arg(name), &mut compiled);
                    self.write_with_fluent(*language, &message, &mut fluent);
                    if !written || compiled != fluent {
                        out.push(format!(
                            "{}: {message:?} is {compiled:?}, in Fluent {fluent:?}",
                            language.tag()
                        ));
                    }
                }
            }
        }
        out
    }

    /// Checks that every language has the same messages, each with the same arguments as in
    /// English; returns what differs. Each crate's tests call it on its catalogue.
    pub fn differences(&self) -> Vec<String> {
        use fluent_syntax::ast;
        fn names(source: &str) -> BTreeMap<String, std::collections::BTreeSet<String>> {
            let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(r, _)| r);
            let mut out = BTreeMap::new();
            for entry in resource.body {
                if let ast::Entry::Message(message) = entry {
                    let mut args = std::collections::BTreeSet::new();
                    if let Some(pattern) = &message.value {
                        pattern_args(pattern, &mut args);
                    }
                    out.insert(message.id.name.to_owned(), args);
                }
            }
            out
        }
        fn pattern_args(
            pattern: &ast::Pattern<&str>,
            out: &mut std::collections::BTreeSet<String>,
        ) {
            for element in &pattern.elements {
                if let ast::PatternElement::Placeable { expression } = element {
                    expression_args(expression, out);
                }
            }
        }
        fn expression_args(
            expression: &ast::Expression<&str>,
            out: &mut std::collections::BTreeSet<String>,
        ) {
            match expression {
                ast::Expression::Select { selector, variants } => {
                    inline_args(selector, out);
                    for variant in variants {
                        pattern_args(&variant.value, out);
                    }
                }
                ast::Expression::Inline(inline) => inline_args(inline, out),
            }
        }
        fn inline_args(
            inline: &ast::InlineExpression<&str>,
            out: &mut std::collections::BTreeSet<String>,
        ) {
            match inline {
                ast::InlineExpression::VariableReference { id } => {
                    out.insert(id.name.to_owned());
                }
                ast::InlineExpression::Placeable { expression } => expression_args(expression, out),
                ast::InlineExpression::FunctionReference { arguments, .. } => {
                    for argument in &arguments.positional {
                        inline_args(argument, out);
                    }
                }
                _ => {}
            }
        }
        let mut differences = Vec::new();
        let english = names(self.source(Language::English).unwrap_or_default());
        for language in Language::ALL {
            let Some(source) = self.source(language) else {
                differences.push(format!("{}: no catalogue", language.tag()));
                continue;
            };
            let theirs = names(source);
            for (id, args) in &english {
                match theirs.get(id) {
                    None => differences.push(format!("{}: no message {id}", language.tag())),
                    Some(a) if a != args => differences.push(format!(
                        "{}: {id} takes {a:?}, in English {args:?}",
                        language.tag()
                    )),
                    Some(_) => {}
                }
            }
            for id in theirs.keys().filter(|id| !english.contains_key(*id)) {
                differences.push(format!("{}: {id} is not in English", language.tag()));
            }
        }
        differences
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::{English, SimplifiedChinese};

    #[test]
    fn a_tag_is_english_simplified_chinese_or_neither() {
        for tag in ["en", "en-GB", "EN-us"] {
            assert_eq!(Language::of_tag(tag), Some(English), "{tag}");
        }
        for tag in ["zh", "zh-Hans", "zh-CN", "zh-SG", "zh-Hans-HK", "ZH-cn"] {
            assert_eq!(Language::of_tag(tag), Some(SimplifiedChinese), "{tag}");
        }
        for tag in [
            "zh-Hant",
            "zh-TW",
            "zh-HK",
            "zh-MO",
            "fr",
            "*",
            "",
            "x-no-such",
        ] {
            assert_eq!(Language::of_tag(tag), None, "{tag}");
        }
    }

    #[test]
    fn the_callers_most_preferred_language_is_chosen() {
        for (header, expected) in [
            ("zh-CN,zh;q=0.9,en;q=0.8", SimplifiedChinese),
            ("en-US,en;q=0.9,zh;q=0.8", English),
            ("fr-FR, zh;q=0.5, en;q=0.4", SimplifiedChinese),
            ("en;q=0.4, zh;q=0.5", SimplifiedChinese),
            ("zh;q=0.5, en;q=0.5", SimplifiedChinese),
            ("zh-TW, zh-Hant;q=0.9", English),
            ("zh;q=0, en;q=0.1", English),
            ("zh;q=2", English),
            ("zh;q=NaN", English),
            ("", English),
            (";;;,,,q=1", English),
        ] {
            assert_eq!(Language::negotiate(header), expected, "{header:?}");
        }
        // Work is bounded: what is past the first sixteen entries, or 512 characters, is not read.
        let late = format!("{}zh", "fr,".repeat(16));
        assert_eq!(Language::negotiate(&late), English);
        let long = format!("{}, zh", "x".repeat(600));
        assert_eq!(Language::negotiate(&long), English);
        let wide = format!("{}zh", "é".repeat(300));
        assert_eq!(Language::negotiate(&wide), English, "cut on a character");
    }

    #[test]
    fn a_call_speaks_its_callers_language_and_nothing_else_does() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(current(), English);
        let inside = runtime.block_on(speaking(SimplifiedChinese, async { current() }));
        assert_eq!(inside, SimplifiedChinese);
        assert_eq!(current(), English);
        let mut metadata = tonic::metadata::MetadataMap::new();
        assert_eq!(Language::of_metadata(&metadata), English);
        metadata.insert("accept-language", "zh-CN".parse().unwrap());
        assert_eq!(Language::of_metadata(&metadata), SimplifiedChinese);
    }

    #[test]
    fn a_catalogue_says_its_messages_and_names_what_it_lacks() {
        let catalogue = Catalogue::new(&[
            (
                English,
                "hello = { $count } { $count ->\n [one] apple\n *[other] apples\n }\n",
            ),
            (
                SimplifiedChinese,
                "hello = { $count } 个苹果\nextra = 多余\n",
            ),
        ]);
        let hello = |n: &str| message("hello", [("count", n.to_owned().into())]);
        assert_eq!(catalogue.say(English, &[hello("1")]), "1 apple");
        assert_eq!(catalogue.say(English, &[hello("3")]), "3 apples");
        assert_eq!(catalogue.say(SimplifiedChinese, &[hello("3")]), "3 个苹果");
        // Not a number: said as it is.
        assert_eq!(catalogue.say(English, &[hello("+3")]), "+3 apples");
        // Only a count is counted with.
        let other = Catalogue::new(&[(English, "n = { $n ->\n [one] one\n *[other] many\n }\n")]);
        assert_eq!(
            other.say(English, &[message("n", [("n", "1".into())])]),
            "many"
        );
        assert_eq!(catalogue.say(English, &[message("missing", [])]), "missing");
        assert_eq!(
            catalogue.differences(),
            ["zh-Hans: extra is not in English".to_owned()]
        );
        assert_eq!(quoted("a\u{202e}b\""), r#""a\u{202e}b\"""#);
        for text in ["Gucci", "", "a\\b", "tab\there", "Lumière", "1:1 ~ok"] {
            assert_eq!(quoted(text), format!("{text:?}"), "{text}");
        }
    }

    #[test]
    fn a_list_of_codes_is_written_in_the_catalogues_own_words() {
        let catalogue = Catalogue::new(&[
            (
                English,
                concat!(
                    "linked = linked by a shared { LIST($by, of: \"link\") }\n",
                    "link-phone = phone number\nlink-address = address\nlink-email = email\n",
                    "list-separator = { \", \" }\nlist-and = { \" and \" }\n",
                ),
            ),
            (
                SimplifiedChinese,
                concat!(
                    "linked = 共用{ LIST($by, of: \"link\") }\n",
                    "link-phone = 电话号码\nlink-address = 地址\nlink-email = 电子邮箱\n",
                    "list-separator = 、\nlist-and = 和\n",
                ),
            ),
        ]);
        let linked = |by: &str| [message("linked", [("by", by.to_owned().into())])];
        assert_eq!(
            catalogue.say(English, &linked("phone")),
            "linked by a shared phone number"
        );
        assert_eq!(
            catalogue.say(English, &linked("email,phone,address")),
            "linked by a shared email, phone number and address"
        );
        assert_eq!(
            catalogue.say(SimplifiedChinese, &linked("email,phone,address")),
            "共用电子邮箱、电话号码和地址"
        );
        // Text kept before codes were, a code without a word, and too many codes: as they are.
        for by in [
            "payment account",
            "phone,fax",
            "",
            &"phone,".repeat(MAX_LIST + 1),
        ] {
            assert_eq!(
                catalogue.say(SimplifiedChinese, &linked(by)),
                format!("共用{by}")
            );
        }
        assert_eq!(catalogue.differences(), Vec::<String>::new());
    }

    #[test]
    fn simple_messages_are_written_without_fluent_and_the_rest_with_it() {
        let source = concat!(
            "way = { \" \" }by { way-name }\n",
            "way-name = { $way ->\n [fuzzy] a misspelling\n *[exact] exactly\n }\n",
            "found = { $text } in the { $field ->\n [description] description\n *[title] title\n }{ way }\n",
            "counted = { $count } { $count ->\n [one] strike\n *[other] strikes\n }\n",
            "escaped = { \"\\u0041\" }\n",
        );
        let catalogue = Catalogue::new(&[(English, source)]);
        let (templates, found) = (&catalogue.templates[0].1, |field: &'static str| {
            message(
                "found",
                [
                    ("text", quoted("Guuci")),
                    ("field", field.into()),
                    ("way", "fuzzy".into()),
                ],
            )
        });
        let mut ids: Vec<_> = templates.ids().collect();
        ids.sort_unstable();
        // Counts and escapes are Fluent's to write.
        assert_eq!(ids, ["found", "way", "way-name"]);
        assert_eq!(
            catalogue.say(English, &[found("title")]),
            "\"Guuci\" in the title by a misspelling"
        );
        // A value no choice names takes the default.
        assert_eq!(
            catalogue.say(English, &[found("elsewhere")]),
            "\"Guuci\" in the title by a misspelling"
        );
        assert_eq!(
            catalogue.say(English, &[found("description")]),
            "\"Guuci\" in the description by a misspelling"
        );
        // An argument missing: written by Fluent, which marks where it is missing, and
        // nothing of the compiled attempt is left.
        let missing = message("found", [("text", quoted("Guuci"))]);
        let mut out = String::from("before: ");
        assert!(!templates.write("found", |name| missing.arg(name), &mut out));
        assert_eq!(out, "before: ");
        assert_eq!(
            catalogue.say(English, &[missing]),
            "\"Guuci\" in the title by exactly"
        );
        assert_eq!(
            catalogue.say(English, &[message("counted", [("count", "1".into())])]),
            "1 strike"
        );
        assert_eq!(catalogue.say(English, &[message("escaped", [])]), "A");
        assert_eq!(catalogue.compiled_differences(), Vec::<String>::new());
    }
}
