//! The disguises counterfeiters use, and the real language that must not be mistaken for
//! them: one test per class, on a catalogue of its own.

use assay_proto::screening::v1::Signal;

use super::*;

fn disguise_engine() -> Engine {
    Engine::compile(EngineInput {
        catalogue_revision: 1,
        rule_version: 1,
        brands: vec![
            brand("gucci", "Gucci", &[], &["handbags", "footwear"], 900),
            brand("rolex", "Rolex", &[], &["watches"], 9000),
            brand("chanel", "Chanel", &[], &["handbags", "perfume"], 4000),
            brand("prada", "Prada", &[], &["handbags"], 1600),
            brand("fendi", "Fendi", &[], &["handbags"], 2200),
            brand("celine", "Celine", &[], &["handbags"], 2500),
            brand("nike", "Nike", &[], &["footwear"], 120),
            brand("apple", "Apple", &[], &["phones"], 900),
            brand("ap", "Audemars Piguet", &["AP"], &["watches"], 30000),
            brand("mk", "Michael Kors", &["MK"], &["handbags", "watches"], 300),
            brand("supreme", "Supreme", &[], &["apparel"], 180),
            brand("rayban", "Ray-Ban", &[], &["sunglasses"], 180),
            brand("lv", "Louis Vuitton", &["LV"], &["handbags"], 1800),
            brand("hermes", "Hermes", &[], &["handbags"], 7000),
            brand("omega", "Omega", &[], &["watches"], 6000),
            brand("burberry", "Burberry", &[], &["apparel"], 1500),
            brand("goose", "Canada Goose", &[], &["apparel"], 1200),
            brand("tnf", "The North Face", &[], &["apparel"], 300),
            brand("miumiu", "Miu Miu", &[], &["handbags"], 1800),
            brand("versace", "Versace", &[], &["apparel"], 900),
            brand("chloe", "Chloe", &[], &["perfume"], 1500),
            brand("fossil", "Fossil", &[], &["watches"], 150),
            brand("swatch", "Swatch", &[], &["watches"], 120),
            brand("puma", "Puma", &[], &["footwear"], 90),
            brand("ysl", "Saint Laurent", &["YSL"], &["perfume"], 1900),
        ],
        rules: Vec::new(),
        thresholds: Thresholds::default(),
        rates: ExchangeRates::new([
            (CurrencyCode::parse("USD").unwrap(), 1.0),
            (CurrencyCode::parse("EUR").unwrap(), 1.08),
        ]),
        ..EngineInput::default()
    })
    .unwrap()
}

/// Screens a title in a category at a price in USD.
fn check(title: &str, category: &str, price: i64) -> Verdict {
    let listing = ListingInput {
        seller_id: "seller-1",
        title,
        category,
        price: Some(money("USD", price)),
        ..ListingInput::default()
    };
    super::said(disguise_engine().screen(&listing, &mut Scratch::default()))
}

fn first_brand(v: &Verdict) -> Option<&str> {
    v.brands.first().map(|b| b.brand_id.as_str())
}

fn text_signal<'a>(v: &'a Verdict, brand: &str) -> &'a Signal {
    v.signals
        .iter()
        .find(|s| s.brand_id == brand && s.kind == SignalKind::BrandText as i32)
        .unwrap_or_else(|| panic!("no text signal for {brand}: {v:#?}"))
}

fn methods_of(v: &Verdict, brand: &str) -> Vec<MatchMethod> {
    match &text_signal(v, brand).detail {
        Some(Detail::Text(t)) => t
            .methods
            .iter()
            .map(|m| MatchMethod::try_from(*m).unwrap())
            .collect(),
        _ => Vec::new(),
    }
}

fn flagged(v: &Verdict) -> bool {
    v.decision != Decision::Allow as i32
}

#[test]
fn names_broken_by_separators_are_joined_again() {
    for (title, brand) in [
        ("Gu-cci belt bag", "gucci"),
        ("Guc-ci belt bag", "gucci"),
        ("Ro+lex submariner", "rolex"),
        ("Cha/nel flap bag", "chanel"),
        ("Pr~ada tote", "prada"),
        ("Gu🔥cci loafers", "gucci"),
        ("F_endi baguette", "fendi"),
        ("Louis Vu-itton speedy", "lv"),
        ("L*o*u*i*s V*u*i*t*t*o*n speedy", "lv"),
    ] {
        let v = check(title, "", 900);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}: a disguise is evidence on its own");
        assert!(
            methods_of(&v, brand).contains(&MatchMethod::Spaced),
            "{title}: {:?}",
            methods_of(&v, brand)
        );
    }
}

#[test]
fn separators_in_ordinary_text_and_in_the_brands_own_name_are_not_disguises() {
    let v = check("Ray-Ban aviator", "sunglasses", 150);
    assert!(
        methods_of(&v, "rayban").is_empty(),
        "written as the brand writes it"
    );
    for title in [
        "t-shirt x-large, men's",
        "anti-slip 3-pack",
        "Titanic model kit 1:350",
    ] {
        let v = check(title, "handbags", 20);
        assert!(v.brands.is_empty(), "{title}: {v:#?}");
    }
    // Two real words next to each other are a phrase, not a name split in two.
    let v = check("Pr ada tote", "", 900);
    assert_eq!(
        first_brand(&v),
        Some("prada"),
        "a space inside a name: {v:#?}"
    );
}

#[test]
fn a_short_alias_inside_a_broken_name_is_a_piece_of_that_name() {
    let v = check("Ap-ple phone 128GB", "", 900);
    assert_eq!(first_brand(&v), Some("apple"), "{v:#?}");
    assert!(v.brands.iter().all(|b| b.brand_id != "ap"), "{v:#?}");
    // Standing as a word of its own, the alias still names its brand.
    let v = check("AP royal oak replica", "watches", 900);
    assert_eq!(first_brand(&v), Some("ap"));
}

#[test]
fn whole_name_disguises_are_read_as_shown() {
    for (title, brand, method) in [
        // Every letter from another script.
        ("Ѕuрrеmе hoodie", "supreme", MatchMethod::Confusable),
        ("Νικε sneakers", "nike", MatchMethod::Confusable),
        ("Ρrаԁа tote", "prada", MatchMethod::Confusable),
        // Written backwards under a right-to-left override, shown forwards.
        (
            "\u{202E}iccuG\u{202C} loafers",
            "gucci",
            MatchMethod::Reversed,
        ),
        // Enclosed, negative squared, small capitals, mathematical letters.
        ("🅶🆄🅲🅲🅸 belt", "gucci", MatchMethod::Styled),
        ("ⓇⓄⓁⒺⓍ datejust", "rolex", MatchMethod::Styled),
        ("ᴄʜᴀɴᴇʟ flap", "chanel", MatchMethod::Styled),
        ("𝐅𝐞𝐧𝐝𝐢 baguette", "fendi", MatchMethod::Styled),
    ] {
        let v = check(title, "", 900);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
        assert!(
            methods_of(&v, brand).contains(&method),
            "{title}: {:?}",
            methods_of(&v, brand)
        );
    }
    // Parenthesised letters are styled letters, not letters between brackets.
    for title in ["⒢⒰⒞⒞⒤ belt", "🄖🄤🄒🄒🄘 belt"] {
        let v = check(title, "", 900);
        assert_eq!(methods_of(&v, "gucci"), [MatchMethod::Styled], "{title}");
    }
    // The span quoted is the listing's own text, backwards as it was written.
    let v = check("new \u{202E}iccuG\u{202C} loafers", "", 900);
    match &text_signal(&v, "gucci").detail {
        Some(Detail::Text(t)) => assert_eq!(t.matched_text, "iccuG"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn short_names_misspelt_count_beside_other_evidence() {
    for title in [
        "Nikke running shoes",
        "Nkie running shoes",
        "Nike7 running shoes",
    ] {
        // Cheap and in the brand's category: a counterfeit.
        let v = check(title, "footwear", 20);
        assert_eq!(first_brand(&v), Some("nike"), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
    }
    // A four-letter misspelling alone, at the brand's price, is not enough.
    let v = check("Nikke running shoes", "", 120);
    assert!(!flagged(&v), "{v:#?}");
}

#[test]
fn real_words_one_edit_from_a_brand_are_not_misspellings_of_it() {
    // French, Italian, German and English words one letter from a brand, cheap and in the
    // brand's own category.
    for title in [
        "Celle pochette en cuir",
        "Fondi di borsa",
        "Kein Leder",
        "Prado tote bag",
    ] {
        let v = check(title, "handbags", 30);
        assert!(!flagged(&v), "{title}: {v:#?}");
    }
    // A made-up word at the same distance is read as the misspelling it is.
    let v = check("Fendy baguette", "handbags", 30);
    assert_eq!(first_brand(&v), Some("fendi"));
    assert!(flagged(&v));
}

#[test]
fn a_misspelling_is_read_as_written_not_as_the_word_it_normalises_into() {
    // "Miiu" normalises as "milu" (a word) does: `l` and `i` are one letter to the matcher,
    // not to the lexicon.
    let v = check("Miiu Miiu tote bag", "handbags", 1800);
    assert_eq!(first_brand(&v), Some("miumiu"), "{v:#?}");
    assert!(flagged(&v), "{v:#?}");
    // The real word written as it is written stays a real word.
    let v = check("Milu tote bag", "handbags", 30);
    assert!(!flagged(&v), "{v:#?}");
}

#[test]
fn a_leet_symbol_inside_a_word_may_be_punctuation() {
    // "|", "!", "$" and "@" before a letter read as letters ("R0|ex"), and may be
    // punctuation after all: between the pieces of a name, or between two words.
    for (title, category, brand) in [
        ("Ch|loe eau de parfum", "perfume", "chloe"),
        ("C/hl|oe eau de parfum", "perfume", "chloe"),
        ("F.oss|il chronograph", "watches", "fossil"),
        ("G|u|c|c|i belt bag", "handbags", "gucci"),
        ("P$r$a$d$a tote", "handbags", "prada"),
        ("R!o!l!e!x submariner", "watches", "rolex"),
    ] {
        let v = check(title, category, 20);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
        assert_eq!(methods_of(&v, brand), [MatchMethod::Spaced], "{title}");
        // The symbols stand for no letter there, and the explanation says none.
        let explanation = &text_signal(&v, brand).explanation;
        assert!(
            explanation.ends_with("through separators between its letters"),
            "{title}: {explanation}"
        );
    }
    // A name glued to the word before it is the name, written plainly.
    for title in ["Sale!Gucci belt bag", "NEW!Gucci belt bag"] {
        let v = check(title, "handbags", 20);
        assert_eq!(first_brand(&v), Some("gucci"), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
        assert_eq!(methods_of(&v, "gucci"), [], "{title}");
    }
    // Symbols before a letter are letters, two of them as well as one.
    let v = check("Fo$$il chronograph", "watches", 20);
    assert_eq!(methods_of(&v, "fossil"), [MatchMethod::Leetspeak], "{v:#?}");
    // And punctuation elsewhere is punctuation.
    let v = check("Gucci!!! belt bag", "handbags", 900);
    assert_eq!(methods_of(&v, "gucci"), [], "{v:#?}");
    for title in ["Wow! lovely tote bag", "Only $20 today, a tote bag"] {
        let v = check(title, "handbags", 20);
        assert!(v.signals.is_empty(), "{title}: {v:#?}");
    }
}

#[test]
fn a_short_name_is_not_found_through_the_letters_normalisation_makes_one() {
    // Normalisation writes `l` and `i` alike, so that "GUCCl" is "Gucci"; two or three
    // letters so written are a word or an abbreviation of their own: "IV" is no "LV", nor
    // "Ysi" (Spanish) "YSL".
    for (title, category) in [
        ("IV drip bag holder", "handbags"),
        ("Ysi classic eau de parfum", "perfume"),
    ] {
        let v = check(title, category, 20);
        assert!(v.signals.is_empty(), "{title}: {v:#?}");
    }
    // Written with its own letters, it is the name, and said to be one (not "an ordinary
    // word", which it is not).
    for (title, category, brand, text) in [
        ("LV tote bag", "handbags", "lv", "LV"),
        ("ysl eau de parfum", "perfume", "ysl", "ysl"),
    ] {
        let v = check(title, category, 20);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        let explanation = &text_signal(&v, brand).explanation;
        assert!(
            explanation.starts_with(&format!("\"{text}\" in the title matches brand ")),
            "{explanation}"
        );
    }
    // A longer name written so is disguised.
    let v = check("GUCCl loafers", "footwear", 20);
    assert_eq!(first_brand(&v), Some("gucci"), "{v:#?}");
}

#[test]
fn invisible_characters_and_stray_marks_inside_a_name_are_a_disguise() {
    // Normalisation drops them, so the name is found; the explanation says how it was
    // written, and the disguise counts as one.
    for (title, category, brand, method, said) in [
        (
            "G\u{200B}ucci loafers",
            "footwear",
            "gucci",
            MatchMethod::Spaced,
            "separators between its letters",
        ),
        (
            "Ro\u{2060}lex datejust",
            "watches",
            "rolex",
            MatchMethod::Spaced,
            "separators between its letters",
        ),
        (
            "Pra\u{00AD}da tote",
            "handbags",
            "prada",
            MatchMethod::Spaced,
            "separators between its letters",
        ),
        (
            "Guc\u{0336}ci loafers",
            "footwear",
            "gucci",
            MatchMethod::Diacritics,
            "added accents",
        ),
    ] {
        let v = check(title, category, 20);
        assert_eq!(methods_of(&v, brand), [method], "{title}: {v:#?}");
        let explanation = &text_signal(&v, brand).explanation;
        assert!(explanation.ends_with(said), "{title}: {explanation}");
    }
    // An ordinary-word brand written so is evidence of its own, as any disguise of it is.
    let plain = check("Omega seamaster", "watches", 6000);
    let hidden = check("Ome\u{200B}ga seamaster", "watches", 6000);
    assert_eq!(methods_of(&hidden, "omega"), [MatchMethod::Spaced]);
    assert!(
        hidden.risk_score > plain.risk_score,
        "{} against {}",
        hidden.risk_score,
        plain.risk_score
    );
}

#[test]
fn a_trade_mark_sign_is_no_part_of_the_name() {
    // Compatibility writes "™" as "TM": "GUCCI™" was the word "guccitm", and named nothing.
    // So are other signs it spells in letters.
    for title in [
        "GUCCI™ loafers",
        "Gucci℠ loafers",
        "Gucci™loafers",
        "Gucci® loafers",
        "Gucci℡ loafers",
        "Gucci㏇ loafers",
    ] {
        let v = check(title, "footwear", 40);
        assert!(flagged(&v), "{title}: {v:#?}");
        assert_eq!(first_brand(&v), Some("gucci"), "{title}");
    }
}

#[test]
fn marks_drawn_as_letters_are_read_as_those_letters() {
    // The iota subscripts are a look-alike `i` in the confusables data look-alike kits are
    // built on, and a spacing mark of another script after a Latin letter is read as the
    // letter it is drawn as; compatibility made the first a space, and the second was
    // dropped as an accent.
    for (title, category, brand, said) in [
        (
            "N\u{037A}ke sneakers",
            "footwear",
            "nike",
            "\"ͺ\" (U+037A) for \"i\"",
        ),
        (
            "N\u{02DB}ke sneakers",
            "footwear",
            "nike",
            "\"˛\" (U+02DB) for \"i\"",
        ),
        (
            "R\u{0C02}lex datejust",
            "watches",
            "rolex",
            "\"ం\" (U+0C02) for \"o\"",
        ),
        (
            "Chl\u{0D82}e eau de parfum",
            "perfume",
            "chloe",
            "\"ං\" (U+0D82) for \"o\"",
        ),
        (
            "Guccͺ loafers",
            "footwear",
            "gucci",
            "\"ͺ\" (U+037A) for \"i\"",
        ),
    ] {
        let v = check(title, category, 40);
        assert!(flagged(&v), "{title}: {v:#?}");
        assert_eq!(first_brand(&v), Some(brand), "{title}");
        assert_eq!(
            methods_of(&v, brand),
            [MatchMethod::Confusable],
            "{title}: {v:#?}"
        );
        let explanation = &text_signal(&v, brand).explanation;
        assert!(explanation.contains(said), "{title}: {explanation}");
    }
    // In its own script the mark is what it is: Telugu text names no brand.
    let telugu = check("తెలుగు సంగీతం", "watches", 40);
    assert!(telugu.brands.is_empty(), "{telugu:#?}");
}

#[test]
fn a_name_glued_to_other_words_is_the_name() {
    // Hashtags, camel case and run-together titles hide a name inside a longer word.
    for (title, category, brand) in [
        ("#gucci loafers", "footwear", "gucci"),
        ("#guccibelt bag", "handbags", "gucci"),
        ("GucciBelt bag", "handbags", "gucci"),
        ("newGucci loafers", "footwear", "gucci"),
        ("Rolexsubmariner automatic", "watches", "rolex"),
        ("bestgucci loafers", "footwear", "gucci"),
        ("#louisvuittonoutlet tote", "handbags", "lv"),
        ("LouisVuittonOfficial tote", "handbags", "lv"),
        // Glued to a common word, an ordinary-word brand is the brand.
        ("#supremeoutlet hoodie", "apparel", "supreme"),
    ] {
        let v = check(title, category, 20);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
    }
    // A word that begins with a name and is a word of its own stays a word: Italian fog
    // lights, not Fendi; nor is a name glued to letters that make no word a name.
    for title in ["Fendinebbia led tote", "Fenditura tote", "Pradaxa tote"] {
        let v = check(title, "handbags", 20);
        assert!(v.signals.is_empty(), "{title}: {v:#?}");
    }
    // A word that only contains a name needs support, and is said to be such a word.
    let v = check("Fenceline garden post", "garden", 20);
    assert!(!flagged(&v), "{v:#?}");
    let explanation = &text_signal(&v, "celine").explanation;
    assert!(
        explanation.ends_with("(a name inside a longer word, without supporting evidence)"),
        "{explanation}"
    );
    // "C#" is no hashtag.
    let v = check("C# programming for phones", "phones", 20);
    assert!(v.signals.is_empty(), "{v:#?}");
}

#[test]
fn a_name_in_the_plural_beside_counterfeit_vocabulary_is_the_name() {
    // "pumas" is a word too common to be looked up as a misspelling; beside counterfeit
    // vocabulary, it is the name in the plural.
    for (title, category, brand) in [
        ("Pumas sneakers replica", "footwear", "puma"),
        ("Nikes sneakers AAA", "footwear", "nike"),
    ] {
        let v = check(title, category, 20);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
    }
    // Without it, the word is a word.
    let v = check("Pumas sneakers", "footwear", 20);
    assert_ne!(first_brand(&v), Some("puma"), "{v:#?}");
}

#[test]
fn a_word_written_in_leetspeak_is_no_real_word() {
    // "fossili" (Italian), "switch" and "caline" (French) are words, and "Foss1il", "Sw1tch"
    // and "C4line" normalise as they do; but nobody writes a word with a digit for a letter
    // but to disguise it, so each is read as the name it is one letter from.
    for (title, category, brand) in [
        ("Foss1il chronograph", "watches", "fossil"),
        ("FOSS|IL chronograph", "watches", "fossil"),
        ("Sw1tch gold watch", "watches", "swatch"),
        ("C4line black handbag", "handbags", "celine"),
    ] {
        let v = check(title, category, 20);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
    }
    // The same words written as words are words.
    for (title, category) in [
        ("Fossili chronograph", "watches"),
        ("Switch gold watch", "watches"),
        ("Caline black handbag", "handbags"),
    ] {
        let v = check(title, category, 20);
        assert!(!flagged(&v), "{title}: {v:#?}");
    }
}

#[test]
fn a_name_misspelt_into_real_words_counts_beside_counterfeit_vocabulary() {
    // Three letters left of a four-letter name, and two words of a name with one misspelt
    // into a word of some language: read only where the title already says counterfeit.
    for (title, plain, category, brand) in [
        (
            "Nke running shoes replica",
            "Nke running shoes",
            "footwear",
            "nike",
        ),
        (
            "Canaa Goose parka mirror quality",
            "Canaa Goose parka",
            "apparel",
            "goose",
        ),
    ] {
        let v = check(title, category, 20);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
        let v = check(plain, category, 1200);
        assert!(!flagged(&v), "{plain}: {v:#?}");
    }
    // A real word of three letters beside counterfeit vocabulary is still a word, common
    // ("nie") or not ("Ike").
    for title in ["Nie wieder replica shoes", "Ike classic replica shoes"] {
        let v = check(title, "footwear", 20);
        assert_ne!(first_brand(&v), Some("nike"), "{title}: {v:#?}");
    }
}

#[test]
fn one_word_of_a_multi_word_name_is_weak_evidence() {
    for title in [
        "Michael leather tote",
        "Louis leather tote",
        "Louise leather tote",
    ] {
        let v = check(title, "handbags", 30);
        assert!(!flagged(&v), "{title}: {v:#?}");
    }
    // With counterfeit vocabulary, the common name counts.
    let v = check("Michael leather tote replica", "handbags", 30);
    assert!(flagged(&v));
    // The whole name, or the whole name misspelt, is the brand.
    for title in ["Michael Kors tote", "Michae Kors tote", "Micheal Kors tote"] {
        let v = check(title, "handbags", 30);
        assert_eq!(first_brand(&v), Some("mk"), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
    }
}

#[test]
fn a_disguised_ordinary_word_brand_is_evidence_of_its_own() {
    // An ordinary word alone says little.
    let v = check("supreme comfort hoodie", "", 180);
    assert!(!flagged(&v), "{v:#?}");
    // Disguised, it is a counterfeit's name.
    for title in ["$upreme hoodie", "Sup-reme hoodie", "Ѕuрrеmе hoodie"] {
        let v = check(title, "", 180);
        assert_eq!(first_brand(&v), Some("supreme"), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
    }
    // An accent is how other languages write ordinary words.
    for title in ["suprême confort", "oméga 3 capsules"] {
        let v = check(title, "", 180);
        assert!(!flagged(&v), "{title}: {v:#?}");
    }
    // One that makes no word of any language is strewn on the name.
    for (title, brand) in [("Suprème hoodie", "supreme"), ("Ómega watch", "omega")] {
        let v = check(title, "", 180);
        assert_eq!(first_brand(&v), Some(brand), "{title}: {v:#?}");
        assert!(flagged(&v), "{title}");
    }
    // Written otherwise, the name is no ordinary word, and the explanation does not say it
    // is; written as it is, it says so.
    let v = check("Ómega watch", "", 180);
    assert_eq!(
        text_signal(&v, "omega").explanation,
        r#""Ómega" in the title matches brand "Omega" through added accents ("Ó" (U+00D3) for "o")"#
    );
    let v = check("Omega watch", "watches", 60);
    assert_eq!(
        text_signal(&v, "omega").explanation,
        r#""Omega" in the title is an ordinary word that matches brand "Omega""#
    );
}

#[test]
fn explanations_say_exactly_how_the_text_differs() {
    // Plain ASCII that matches exactly claims no method.
    let v = check("Vuitton wallet", "handbags", 30);
    let signal = text_signal(&v, "lv");
    assert!(methods_of(&v, "lv").is_empty(), "{signal:?}");
    assert!(
        !signal.explanation.contains("look-alike"),
        "{}",
        signal.explanation
    );
    assert!(
        signal.explanation.contains("part of"),
        "{}",
        signal.explanation
    );
    match &signal.detail {
        Some(Detail::Text(t)) => assert_eq!(t.term, "Vuitton", "the word it matched"),
        other => panic!("{other:?}"),
    }
    // A look-alike names the character and what it stands for.
    let v = check("Guсci belt", "", 900);
    let explanation = &text_signal(&v, "gucci").explanation;
    assert!(
        explanation.contains("look-alike characters"),
        "{explanation}"
    );
    assert!(explanation.contains("U+0441"), "{explanation}");
    // Leetspeak likewise.
    let v = check("R0lex datejust", "", 900);
    let explanation = &text_signal(&v, "rolex").explanation;
    assert!(explanation.contains("\"0\" for \"o\""), "{explanation}");
    // A digit or symbol for `l` or `i` is said to stand for the letter the name has there,
    // though normalisation writes both as one.
    for (title, brand, said) in [
        ("Ro1ex datejust", "rolex", "\"1\" for \"l\""),
        ("Ce|ine tote", "celine", "\"|\" for \"l\""),
        ("Gucc1 loafers", "gucci", "\"1\" for \"i\""),
        ("Michae1 Kors tote", "mk", "\"1\" for \"l\""),
    ] {
        let v = check(title, "", 900);
        let explanation = &text_signal(&v, brand).explanation;
        assert!(explanation.ends_with(&format!("({said})")), "{explanation}");
    }
}

#[test]
fn names_written_in_ascii_look_alikes_are_read_as_the_name() {
    // At the brand's own price: the look-alikes are the only evidence, and enough.
    for (title, category, price, brand, listed) in [
        (
            "Hernnes tote bag",
            "handbags",
            7000,
            "hermes",
            "\"nn\" for \"m\"",
        ),
        (
            "Hernres tote bag",
            "handbags",
            7000,
            "hermes",
            "\"nr\" for \"m\"",
        ),
        (
            "Clhancl perfume",
            "perfume",
            4000,
            "chanel",
            "\"lh\" for \"h\", \"c\" for \"e\"",
        ),
        (
            "Orneqa automatic watch",
            "watches",
            6000,
            "omega",
            "\"rn\" for \"m\"",
        ),
        (
            "Lburlberry trench coat",
            "apparel",
            1500,
            "burberry",
            "\"lb\" for \"b\"",
        ),
        ("Gveci loafers", "footwear", 900, "gucci", "\"v\" for \"u\""),
        (
            "Caraba Goose parka",
            "apparel",
            1200,
            "goose",
            "\"r\" for \"n\"",
        ),
    ] {
        let v = check(title, category, price);
        assert!(flagged(&v), "{title}: {v:#?}");
        assert_eq!(first_brand(&v), Some(brand), "{title}");
        assert_eq!(methods_of(&v, brand), [MatchMethod::Confusable], "{title}");
        let explanation = &text_signal(&v, brand).explanation;
        assert!(
            explanation.contains("look-alike characters"),
            "{explanation}"
        );
        assert!(explanation.contains(listed), "{title}: {explanation}");
        assert!(!explanation.contains("letters off"), "{explanation}");
    }
    // A real word is what it is ("Mike"); more rewrites than a name of its length bears are
    // another word; letters that do not look alike are a misspelling or nothing.
    for (title, category) in [
        ("Mike's running shoes", "footwear"),
        ("Qveei loafers", "footwear"),
        ("Gxcxi loafers", "footwear"),
    ] {
        let v = check(title, category, 120);
        assert!(
            v.signals
                .iter()
                .all(|s| !s.explanation.contains("look-alike")),
            "{title}: {v:#?}"
        );
    }
}

#[test]
fn a_name_of_three_words_with_one_misspelt_is_read_whole() {
    for title in [
        "The Nrth Face down jacket",
        "The Noorth Face down jacket",
        "The North9 Face down jacket",
        "The Nortlh Face down jacket",
    ] {
        let v = check(title, "apparel", 300);
        assert!(flagged(&v), "{title}: {v:#?}");
        assert_eq!(first_brand(&v), Some("tnf"), "{title}");
    }
    // Real words around a real word are a phrase.
    let v = check("The Northern Face moisturiser", "beauty", 20);
    assert!(!flagged(&v), "{v:#?}");
    assert!(v.brands.is_empty(), "{v:#?}");
}

#[test]
fn a_name_written_twice_and_misspelt_twice_is_read() {
    for title in [
        "Kmiu Kmiu tote bag",
        "Miu0 Miu0 clutch",
        "M9u M9u shoulder bag",
    ] {
        let v = check(title, "handbags", 1800);
        assert!(flagged(&v), "{title}: {v:#?}");
        assert_eq!(first_brand(&v), Some("miumiu"), "{title}");
        let explanation = &text_signal(&v, "miumiu").explanation;
        assert!(explanation.contains("2 letters off"), "{explanation}");
    }
    // Two different words, or a word twice that is a real word, are not the name.
    for title in ["Kmiu Miux tote bag", "Mia Mia tote bag"] {
        let v = check(title, "handbags", 1800);
        assert!(!flagged(&v), "{title}: {v:#?}");
    }
}

#[test]
fn es_slipped_inside_a_name_is_read_as_the_name() {
    let v = check("Versesace silk shirt", "apparel", 900);
    assert!(flagged(&v), "{v:#?}");
    assert_eq!(first_brand(&v), Some("versace"));
    assert!(
        text_signal(&v, "versace")
            .explanation
            .contains("2 letters off")
    );
    // At either end it is not slipped inside.
    for title in ["Esversace shirt", "Versacees shirt"] {
        let v = check(title, "apparel", 900);
        assert!(first_brand(&v) != Some("versace"), "{title}: {v:#?}");
    }
}

#[test]
fn the_trades_own_words_are_counterfeit_vocabulary() {
    for title in [
        "sneakers UA quality",
        "OEM factory tote",
        "运动鞋 纯原 版本",
        "tote 1:1 mirror",
        "tote 7A",
        "tote 7a grade",
        "tote super copy",
        "diver homage watch",
        "女包 专柜品质",
    ] {
        let v = check(title, "", 50);
        assert!(
            v.signals
                .iter()
                .any(|s| s.kind == SignalKind::Vocabulary as i32),
            "{title}: {v:#?}"
        );
    }
}

#[test]
fn a_term_written_with_digits_matches_only_text_written_with_them() {
    // Normalisation makes "7A" "ta" and "1:1" "i:i", so that "r3plica" is "replica"; a
    // term's own digits must be digits (or leet symbols) in the text too.
    for (title, vocabulary) in [
        ("Gucci tote 7A quality", true),
        ("Gucci tote 1:1", true),
        ("Gucci tote mirror 1:1", true),
        ("Gucci tote r3plica", true),
        ("Gucci tote ta quality", false),
        ("Gucci tote i:i", false),
        ("Gucci tote mirror l:l", false),
        ("Gucci tote TA", false),
    ] {
        let v = check(title, "handbags", 900);
        let found = v
            .signals
            .iter()
            .any(|s| s.kind == SignalKind::Vocabulary as i32);
        assert_eq!(found, vocabulary, "{title}: {v:#?}");
    }
}

#[test]
fn the_readme_example_is_explained_as_the_readme_says() {
    let engine = Engine::compile(EngineInput {
        brands: vec![brand("lumiere", "Lumière", &[], &["handbags"], 1200)],
        ..EngineInput::default()
    })
    .unwrap();
    let listing = ListingInput {
        seller_id: "S-77",
        title: "L u m 1 è r e replica tote, AAA mirror quality",
        category: "handbags",
        ..ListingInput::default()
    };
    let v = super::said(engine.screen(&listing, &mut Scratch::default()));
    assert_eq!(
        text_signal(&v, "lumiere").explanation,
        "\"L u m 1 è r e\" in the title matches brand \"Lumière\" through separators between \
         its letters and leetspeak (\"1\" for \"i\")"
    );
    // The same evidence, as the README shows it to a caller who prefers Chinese.
    let mut zh = v.clone();
    crate::engine::say::write(&mut zh, assay_common::language::Language::SimplifiedChinese);
    assert_eq!(
        text_signal(&zh, "lumiere").explanation,
        "标题中的 \"L u m 1 è r e\" 与品牌 \"Lumière\" 相符，手法为在字母之间插入分隔符和以数字\
         或符号代替字母（\"1\" 代替 \"i\"）"
    );
}

#[test]
fn look_alikes_are_read_up_to_the_longest_word_and_no_further() {
    // Without l and r, which normalise or pair: 23 and 24 letters.
    let engine = Engine::compile(EngineInput {
        brands: vec![
            brand("23", "Abcdefghijkmnopqstuvwxy", &[], &["handbags"], 900),
            brand("24", "Zbcdefghijkmnopqstuvwxyz", &[], &["handbags"], 900),
            brand(
                "twice",
                "Abcdefghijkmnopqstuvwxya Abcdefghijkmnopqstuvwxya",
                &[],
                &["handbags"],
                900,
            ),
        ],
        ..EngineInput::default()
    })
    .unwrap();
    let screen = |title: &str| {
        let listing = ListingInput {
            seller_id: "s",
            title,
            category: "handbags",
            price: Some(money("USD", 900)),
            ..ListingInput::default()
        };
        super::said(engine.screen(&listing, &mut Scratch::default()))
    };
    // "cl" for "d" and "q" for "g": three edits, two look-alikes, 24 letters.
    let v = screen("Abcclefqhijkmnopqstuvwxy bag");
    assert_eq!(first_brand(&v), Some("23"), "{v:#?}");
    assert_eq!(methods_of(&v, "23"), [MatchMethod::Confusable]);
    // The same of 24 letters makes 25: longer than any word looked up; nothing overruns.
    for title in [
        "Zbcclefqhijkmnopqstuvwxyz bag",
        "Abcdefghijkmnopqstuvwxyaq Abcdefghijkmnopqstuvwxyaq bag",
    ] {
        let v = screen(title);
        assert!(v.brands.is_empty(), "{title}: {v:#?}");
    }
}
