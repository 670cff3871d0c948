//! Engine behaviour on a small catalogue.

use assay_common::money::{CurrencyCode, Money};
use assay_proto::common::v1::Money as PbMoney;
use assay_proto::registry::v1::{CatalogueBrand, ReferencePrice};
use assay_proto::screening::v1::{Decision, MatchMethod, SignalKind, Verdict, signal::Detail};

use super::*;

mod disguises;

fn money(code: &str, units: i64) -> Money {
    Money::from_proto(&PbMoney {
        currency_code: code.into(),
        units,
        nanos: 0,
    })
    .unwrap()
}

fn brand(
    id: &str,
    name: &str,
    aliases: &[&str],
    categories: &[&str],
    price: i64,
) -> CatalogueBrand {
    CatalogueBrand {
        brand_id: id.into(),
        member_id: format!("mbr_{id}"),
        name: name.into(),
        aliases: aliases.iter().map(|a| (*a).into()).collect(),
        categories: categories.iter().map(|c| (*c).into()).collect(),
        reference_prices: categories
            .iter()
            .map(|c| ReferencePrice {
                category: (*c).into(),
                price: Some(money("EUR", price).to_proto()),
            })
            .collect(),
        authorized_seller_ids: vec![format!("{id}-official")],
        logo_hashes: vec![],
        agent_member_ids: vec![],
        right_kinds: vec![1],
        revision: 1,
    }
}

pub(super) fn catalogue() -> Vec<CatalogueBrand> {
    let mut lv = brand(
        "lv",
        "Louis Vuitton",
        &["LV", "路易威登"],
        &["handbags", "wallets"],
        1500,
    );
    lv.logo_hashes = vec![0x8f3c_1e0f_0f1e_3c8f];
    vec![
        brand("nike", "Nike", &["耐克"], &["footwear", "apparel"], 120),
        brand("adidas", "Adidas", &[], &["footwear", "apparel"], 100),
        brand("gucci", "Gucci", &["古驰"], &["handbags", "footwear"], 900),
        lv,
        brand("coach", "Coach", &[], &["handbags"], 350),
        brand("puma", "Puma", &[], &["footwear"], 90),
        brand("omega", "Omega", &[], &["watches"], 5000),
        brand("apple", "Apple", &["iPhone"], &["phones", "laptops"], 900),
        brand("pandora", "Pandora", &[], &["jewelry"], 80),
        brand("chanel", "Chanel", &[], &["handbags", "perfume"], 4000),
        brand(
            "balenciaga",
            "Balenciaga",
            &[],
            &["handbags", "footwear"],
            1200,
        ),
    ]
}

pub(super) fn engine_with(rules: Vec<RuleInput>) -> Engine {
    let rates = ExchangeRates::new([
        (CurrencyCode::parse("USD").unwrap(), 1.0),
        (CurrencyCode::parse("EUR").unwrap(), 1.08),
        (CurrencyCode::parse("CNY").unwrap(), 0.14),
    ]);
    Engine::compile(EngineInput {
        catalogue_revision: 7,
        rule_version: 3,
        brands: catalogue(),
        rules,
        thresholds: Thresholds::default(),
        rates,
        ..EngineInput::default()
    })
    .unwrap()
}

fn engine() -> Engine {
    engine_with(Vec::new())
}

struct L {
    title: &'static str,
    description: &'static str,
    category: &'static str,
    price: (&'static str, i64),
    seller: &'static str,
}

impl Default for L {
    fn default() -> Self {
        Self {
            title: "",
            description: "",
            category: "",
            price: ("USD", 50),
            seller: "seller-1",
        }
    }
}

fn screen_with(engine: &Engine, l: L, hashes: &[u64]) -> Verdict {
    let listing = ListingInput {
        seller_id: l.seller,
        title: l.title,
        description: l.description,
        category: l.category,
        price: Some(money(l.price.0, l.price.1)),
        image_hashes: hashes,
        seller: None,
        record: None,
    };
    said(engine.screen(&listing, &mut Scratch::default()))
}

/// A verdict with its explanations written in English, as a caller reads them.
fn said(mut verdict: Verdict) -> Verdict {
    super::say::write(&mut verdict, assay_common::language::Language::English);
    verdict
}

fn screen(l: L) -> Verdict {
    screen_with(&engine(), l, &[])
}

fn decision(v: &Verdict) -> Decision {
    Decision::try_from(v.decision).unwrap()
}

fn brand_ids(v: &Verdict) -> Vec<&str> {
    v.brands.iter().map(|b| b.brand_id.as_str()).collect()
}

fn text_methods(v: &Verdict, brand: &str) -> Vec<MatchMethod> {
    v.signals
        .iter()
        .filter(|s| s.kind == SignalKind::BrandText as i32 && s.brand_id == brand)
        .filter_map(|s| match &s.detail {
            Some(Detail::Text(t)) => Some(
                t.methods
                    .iter()
                    .map(|m| MatchMethod::try_from(*m).unwrap())
                    .collect(),
            ),
            _ => None,
        })
        .next()
        .unwrap_or_default()
}

#[test]
fn a_clean_listing_is_allowed_without_signals() {
    let v = screen(L {
        title: "Handmade leather wallet, brown",
        description: "Full grain leather, stitched by hand.",
        category: "wallets",
        ..L::default()
    });
    assert_eq!(decision(&v), Decision::Allow);
    assert!(v.signals.is_empty() && v.brands.is_empty());
    assert_eq!((v.catalogue_revision, v.rule_version), (7, 3));
}

#[test]
fn an_obvious_counterfeit_is_blocked_and_explained() {
    let v = screen(L {
        title: "Louis Vuitton Neverfull replica AAA 1:1 mirror quality",
        category: "handbags",
        price: ("USD", 45),
        ..L::default()
    });
    assert_eq!(decision(&v), Decision::Block);
    assert_eq!(brand_ids(&v), ["lv"]);
    let kinds: Vec<_> = v
        .signals
        .iter()
        .map(|s| SignalKind::try_from(s.kind).unwrap())
        .collect();
    for kind in [
        SignalKind::BrandText,
        SignalKind::Vocabulary,
        SignalKind::Price,
        SignalKind::Category,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }
    let price = v
        .signals
        .iter()
        .find_map(|s| match &s.detail {
            Some(Detail::Price(p)) => Some(p),
            _ => None,
        })
        .unwrap();
    assert!((price.ratio - 45.0 / (1500.0 * 1.08)).abs() < 1e-9);
    let text = v
        .signals
        .iter()
        .find_map(|s| match &s.detail {
            Some(Detail::Text(t)) if s.kind == SignalKind::BrandText as i32 => Some(t),
            _ => None,
        })
        .unwrap();
    assert_eq!((text.start, text.end), (0, 13));
    assert_eq!(text.matched_text, "Louis Vuitton");
    assert!(text.methods.is_empty(), "exact");
}

#[test]
fn obfuscations_are_seen_through() {
    let cases: &[(&str, &str, MatchMethod)] = &[
        ("N1KE Air Max 90 sneakers", "nike", MatchMethod::Leetspeak),
        ("Nіke Air Max 90", "nike", MatchMethod::Confusable),
        ("N.i.k.e running shoes", "nike", MatchMethod::Spaced),
        ("G U C C I belt bag", "gucci", MatchMethod::Spaced),
        ("Adidsa Superstar trainers", "adidas", MatchMethod::Fuzzy),
        (
            "Balenciaaga speed trainers",
            "balenciaga",
            MatchMethod::Fuzzy,
        ),
        ("Gúcci Marmont", "gucci", MatchMethod::Diacritics),
        (
            "ＣＨＡＮＥＬ classic flap",
            "chanel",
            MatchMethod::Unspecified,
        ),
    ];
    for &(title, brand, method) in cases {
        let v = screen(L {
            title,
            category: "footwear",
            ..L::default()
        });
        assert!(
            brand_ids(&v).contains(&brand),
            "{title}: {:?}",
            brand_ids(&v)
        );
        let methods = text_methods(&v, brand);
        if method == MatchMethod::Unspecified {
            assert!(
                methods.is_empty(),
                "{title}: width is not obfuscation, got {methods:?}"
            );
        } else {
            assert!(methods.contains(&method), "{title}: {methods:?}");
        }
    }
}

#[test]
fn other_scripts_and_multi_word_names() {
    let v = screen(L {
        title: "正品路易威登 高仿 手提包",
        category: "handbags",
        price: ("CNY", 300),
        ..L::default()
    });
    assert_eq!(brand_ids(&v), ["lv"]);
    assert_eq!(decision(&v), Decision::Block);
    let v = screen(L {
        title: "LouisVuitton speedy",
        category: "handbags",
        ..L::default()
    });
    assert_eq!(brand_ids(&v), ["lv"]);
}

#[test]
fn ordinary_words_need_supporting_evidence() {
    for (title, category) in [
        ("Coach bus toy for kids, die-cast", "toys"),
        ("Puma plush toy, 30 cm", "toys"),
        ("Omega-3 fish oil capsules", "supplements"),
        ("Apple slicer and corer, stainless", "kitchen"),
        ("Pandora box arcade console 3000 games", "electronics"),
    ] {
        let v = screen(L {
            title,
            category,
            price: ("USD", 20),
            ..L::default()
        });
        assert_eq!(decision(&v), Decision::Allow, "{title}: {v:?}");
        assert!(v.risk_score <= 0.2, "{title}");
    }
    // The same word with evidence does count.
    let v = screen(L {
        title: "Coach tabby shoulder bag replica",
        category: "handbags",
        price: ("USD", 40),
        ..L::default()
    });
    assert_eq!(decision(&v), Decision::Block, "{v:?}");
}

#[test]
fn misspelling_checks_skip_ordinary_words() {
    let v = screen(L {
        title: "4 channel audio mixer",
        category: "electronics",
        ..L::default()
    });
    assert!(
        v.brands.is_empty(),
        "channel is not a misspelt chanel: {v:?}"
    );
}

#[test]
fn misspellings_are_found_in_descriptions_within_one_edit() {
    let brands = |description: &'static str| {
        let v = screen(L {
            title: "Quilted shoulder bag",
            description,
            category: "handbags",
            ..L::default()
        });
        brand_ids(&v)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        brands("Same leather as the Balenciagga city bag."),
        ["balenciaga"]
    );
    assert!(
        brands("Same leather as the Bolenciagu city bag.").is_empty(),
        "two edits are for titles only"
    );
    let v = screen(L {
        title: "Bolenciagu city bag",
        category: "handbags",
        ..L::default()
    });
    assert_eq!(brand_ids(&v), ["balenciaga"]);
}

#[test]
fn accessories_naming_what_they_fit_are_not_counterfeits() {
    let v = screen(L {
        title: "Silicone case compatible with iPhone 15",
        category: "phone-accessories",
        price: ("USD", 9),
        ..L::default()
    });
    assert_eq!(decision(&v), Decision::Allow, "{v:?}");
    let text = v.signals.iter().find_map(|s| match &s.detail {
        Some(Detail::Text(t)) => Some(t),
        _ => None,
    });
    assert!(text.unwrap().compatibility_reference);
}

/// What case management knows of a seller weighs with the listing's own evidence, each
/// strike once, and names the seller; alone it flags nothing.
#[test]
fn case_managements_record_of_a_seller_is_explained_and_counted_once() {
    let engine = engine();
    let links = [SellerLink {
        seller_id: "shop-80".into(),
        evidence: "payment-account".into(),
    }];
    let screen_as = |title: &str, seller: Option<SellerInput>, record: Option<SellerRecord>| {
        let listing = ListingInput {
            seller_id: "shop-77",
            title,
            category: "handbags",
            price: Some(money("USD", 900)),
            seller,
            record,
            ..ListingInput::default()
        };
        said(engine.screen(&listing, &mut Scratch::default()))
    };
    let sellers = |v: &Verdict| -> Vec<(String, f64)> {
        v.signals
            .iter()
            .filter(|s| s.kind == SignalKind::Seller as i32)
            .map(|s| {
                (
                    s.explanation.clone(),
                    (s.contribution * 100.0).round() / 100.0,
                )
            })
            .collect()
    };
    let title = "Gucci Marmont bag";
    let plain = screen_as(title, None, None);
    let record = SellerRecord {
        active_strikes: 3,
        window_days: 365,
        repeat_infringer: true,
        links: &links,
    };
    let recorded = screen_as(title, None, Some(record));
    assert_eq!(
        sellers(&recorded),
        [
            (
                "seller shop-77 has 3 confirmed strikes in the last 365 days".to_owned(),
                0.45
            ),
            // Equal shares in the order of their messages, whatever the reader's language.
            (
                "seller shop-77 is linked to repeat infringer shop-80 by a shared payment account"
                    .to_owned(),
                0.2
            ),
            ("seller shop-77 is a repeat infringer".to_owned(), 0.2),
        ]
    );
    assert!(recorded.risk_score > plain.risk_score, "{recorded:?}");
    // What links them is written in the reader's language too.
    let mut in_chinese = recorded.clone();
    super::say::write(
        &mut in_chinese,
        assay_common::language::Language::SimplifiedChinese,
    );
    assert!(
        in_chinese
            .signals
            .iter()
            .any(|s| s.explanation == "卖家 shop-77 因共用支付账户与重复侵权者 shop-80 相互关联"),
        "{in_chinese:?}"
    );
    // The marketplace's count of the same strikes is not added on top.
    let both = screen_as(
        title,
        Some(SellerInput {
            account_age_days: 400,
            rating: None,
            prior_strikes: 2,
        }),
        Some(record),
    );
    assert_eq!(sellers(&both), sellers(&recorded));
    assert!((both.risk_score - recorded.risk_score).abs() < 1e-9);
    // Where the marketplace knows more, its count is the one weighed.
    let more = SellerRecord {
        active_strikes: 1,
        repeat_infringer: false,
        links: &[],
        ..record
    };
    let marketplace_knows_more = screen_as(
        title,
        Some(SellerInput {
            account_age_days: 400,
            rating: None,
            prior_strikes: 2,
        }),
        Some(more),
    );
    assert_eq!(
        sellers(&marketplace_knows_more),
        [(
            "the seller has 2 earlier confirmed infringements".to_owned(),
            0.3
        )]
    );
    // A listing with nothing suspicious says nothing of its seller.
    let innocent = screen_as("Plain leather notebook", None, Some(record));
    assert!(
        innocent.signals.is_empty() && innocent.brands.is_empty(),
        "{innocent:?}"
    );
}

#[test]
fn authorised_sellers_are_allowed_for_their_brand() {
    let counterfeit = L {
        title: "Gucci Marmont bag 1:1",
        category: "handbags",
        price: ("USD", 60),
        seller: "gucci-official",
        ..L::default()
    };
    let v = screen(counterfeit);
    assert!(v.brands.is_empty(), "{v:?}");
}

#[test]
fn genuine_resellers_at_normal_prices_are_allowed() {
    let v = screen(L {
        title: "Gucci Dionysus shoulder bag, pre-owned, with receipt",
        category: "handbags",
        price: ("EUR", 1100),
        ..L::default()
    });
    assert_eq!(decision(&v), Decision::Allow, "{v:?}");
    assert_eq!(brand_ids(&v), ["gucci"], "the brand is still named");
}

#[test]
fn logo_images_are_matched_by_hamming_distance() {
    let e = engine();
    let near = 0x8f3c_1e0f_0f1e_3c8f_u64 ^ 0b101;
    let v = screen_with(
        &e,
        L {
            title: "Monogram canvas tote",
            category: "handbags",
            price: ("USD", 40),
            ..L::default()
        },
        &[near],
    );
    assert_eq!(brand_ids(&v), ["lv"]);
    assert_ne!(decision(&v), Decision::Allow);
}

#[test]
fn vocabulary_alone_asks_for_review_only_when_it_is_strong() {
    let strong = screen(L {
        title: "Designer handbag replica AAA 1:1, top grade",
        category: "handbags",
        ..L::default()
    });
    assert!(strong.brands.is_empty());
    assert_eq!(decision(&strong), Decision::Review);
    // A lone "replica" is also a scale model's word.
    let model = screen(L {
        title: "Titanic replica model kit 1:350",
        category: "toys",
        ..L::default()
    });
    assert_eq!(decision(&model), Decision::Allow, "{model:?}");
}

#[test]
fn denied_vocabulary_does_not_count() {
    let v = screen(L {
        title: "Gucci belt, 100% authentic, not fake",
        category: "belts",
        price: ("EUR", 400),
        ..L::default()
    });
    assert!(
        v.signals
            .iter()
            .all(|s| s.kind != SignalKind::Vocabulary as i32),
        "{v:?}"
    );
}

#[test]
fn rules_add_vocabulary_and_move_thresholds() {
    let rule = RuleInput {
        brand_id: Some("gucci".into()),
        vocabulary: vec![("marmont style".into(), 0.5)],
        review_threshold: Some(0.3),
        block_threshold: Some(0.6),
        ambiguous_terms: vec![],
    };
    let off = RuleInput {
        brand_id: None,
        vocabulary: vec![("replica".into(), 0.0)],
        ..RuleInput::default()
    };
    let e = engine_with(vec![rule, off]);
    let v = screen_with(
        &e,
        L {
            title: "Gucci marmont style bag",
            category: "handbags",
            price: ("EUR", 900),
            ..L::default()
        },
        &[],
    );
    assert_eq!(decision(&v), Decision::Block, "{v:?}");
    let v = screen_with(
        &e,
        L {
            title: "replica",
            ..L::default()
        },
        &[],
    );
    assert!(v.signals.is_empty(), "a switched-off term is silent");
}

#[test]
fn verdicts_are_deterministic() {
    let l = || L {
        title: "N1KE Gucci adidsa replica AAA",
        description: "louis vuitton 高仿 dupe",
        category: "footwear",
        price: ("USD", 10),
        ..L::default()
    };
    let first = screen(l());
    for _ in 0..5 {
        assert_eq!(screen(l()), first);
    }
    assert_eq!(
        screen_with(&engine(), l(), &[]),
        first,
        "a recompiled engine agrees"
    );
}

#[test]
fn a_calibration_moves_each_contribution_and_keeps_the_weight_before_it() {
    let listing = || L {
        title: "Gucci Marmont bag replica",
        category: "handbags",
        price: ("USD", 60),
        ..L::default()
    };
    let plain = screen(listing());
    let calibrated_engine = Engine::compile(EngineInput {
        brands: catalogue(),
        calibration: crate::calibration::Shifts::new(
            4,
            [(SignalKind::Vocabulary as i32, -2.0)],
            [("gucci".to_owned(), -1.0)],
        ),
        ..EngineInput::default()
    })
    .unwrap();
    let calibrated = screen_with(&calibrated_engine, listing(), &[]);
    assert_eq!(
        (plain.calibration_version, calibrated.calibration_version),
        (0, 4)
    );
    for signal in &plain.signals {
        assert_eq!(signal.base_contribution, signal.contribution);
    }
    for signal in &calibrated.signals {
        let before = plain
            .signals
            .iter()
            .find(|s| s.kind == signal.kind && s.explanation_parts == signal.explanation_parts)
            .unwrap();
        assert_eq!(signal.base_contribution, before.contribution);
        let shift = if signal.kind == SignalKind::Vocabulary as i32 {
            -2.0
        } else {
            0.0
        } + if signal.brand_id == "gucci" {
            -1.0
        } else {
            0.0
        };
        let expected = crate::calibration::shifted(before.contribution, shift);
        assert!((signal.contribution - expected).abs() < 1e-12, "{signal:?}");
    }
    assert!(calibrated.risk_score < plain.risk_score);
}

mod properties {
    use proptest::prelude::*;

    use super::super::lexicon::lexicon;
    use super::super::normalize::{Normalized, normalize, normalize_term};
    use super::*;

    fn one_brand_engine(name: &str) -> Engine {
        Engine::compile(EngineInput {
            brands: vec![brand("b", name, &[], &["handbags"], 500)],
            ..EngineInput::default()
        })
        .unwrap()
    }

    fn found(engine: &Engine, title: &str) -> Vec<MatchMethod> {
        let listing = ListingInput {
            seller_id: "s",
            title,
            category: "handbags",
            ..ListingInput::default()
        };
        let v = said(engine.screen(&listing, &mut Scratch::default()));
        assert_eq!(brand_ids(&v), ["b"], "{title:?} should name the brand");
        text_methods(&v, "b")
    }

    /// Brand-like names: letters, not ordinary words, not counterfeit vocabulary.
    fn name() -> impl Strategy<Value = String> {
        "[a-z]{5,10}".prop_filter("not an ordinary word", |n| {
            let normalized = normalize_term(n);
            !lexicon().contains(normalized.as_bytes())
                && !BUILT_IN_VOCABULARY
                    .iter()
                    .any(|(t, _)| normalize_term(t) == normalized)
                && !COMPATIBILITY_PHRASES
                    .iter()
                    .any(|t| normalize_term(t) == normalized)
        })
    }

    fn capitalised(name: &str) -> String {
        let mut chars = name.chars();
        chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    }

    const LEET: &[(char, char)] = &[
        ('a', '4'),
        ('e', '3'),
        ('i', '1'),
        ('o', '0'),
        ('s', '5'),
        ('t', '7'),
        ('l', '1'),
    ];
    const CYRILLIC: &[(char, char)] = &[
        ('a', '\u{0430}'),
        ('e', '\u{0435}'),
        ('o', '\u{043E}'),
        ('p', '\u{0440}'),
        ('c', '\u{0441}'),
        ('x', '\u{0445}'),
        ('i', '\u{0456}'),
    ];

    fn substitute(name: &str, table: &[(char, char)], pick: &[bool]) -> Option<String> {
        let mut changed = false;
        let out: String = name
            .chars()
            .enumerate()
            .map(|(i, c)| match table.iter().find(|(from, _)| *from == c) {
                Some((_, to)) if pick[i % pick.len()] => {
                    changed = true;
                    *to
                }
                _ => c,
            })
            .collect();
        changed.then_some(out)
    }

    /// Seller-written text at its most hostile: any characters, control, bidirectional and
    /// invisible ones included, mixed with brand names and counterfeit vocabulary.
    fn hostile_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                "\\PC{0,6}",
                "[\\x00-\\x1f\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{feff}]{1,3}",
                prop::sample::select(vec![
                    "Lumière".to_owned(),
                    "L u m 1 è r e".to_owned(),
                    "replica".to_owned(),
                    "1:1".to_owned(),
                    "高仿".to_owned(),
                    "LMR".to_owned(),
                ]),
            ],
            0..24,
        )
        .prop_map(|parts| parts.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever a seller writes, screening answers without panicking, and every span it
        /// reports (in characters) lies inside the field it names and quotes it.
        #[test]
        fn any_listing_is_screened_with_spans_inside_its_text(
            title in hostile_text(),
            description in hostile_text(),
            units in any::<i64>(),
        ) {
            let engine = Engine::compile(EngineInput {
                brands: vec![brand("b", "Lumière", &["LMR"], &["handbags"], 500)],
                ..EngineInput::default()
            })
            .unwrap();
            let listing = ListingInput {
                seller_id: "s",
                title: &title,
                description: &description,
                category: "handbags",
                price: Money::from_proto(&PbMoney {
                    currency_code: "EUR".into(),
                    units,
                    nanos: 0,
                })
                .ok(),
                ..ListingInput::default()
            };
            let verdict = said(engine.screen(&listing, &mut Scratch::default()));
            prop_assert!((0.0..=1.0).contains(&verdict.risk_score), "{}", verdict.risk_score);
            for signal in &verdict.signals {
                if let Some(Detail::Text(t)) = &signal.detail {
                    let text = match t.field {
                        1 => &title,
                        2 => &description,
                        other => panic!("span in field {other}"),
                    };
                    let (start, end) = (t.start as usize, t.end as usize);
                    let length = text.chars().count();
                    prop_assert!(start <= end && end <= length, "{start}..{end} of {length}");
                    let quoted: String = text.chars().skip(start).take(end - start).collect();
                    prop_assert_eq!(quoted, t.matched_text.as_str());
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn normalisation_is_idempotent(text in "\\PC{0,40}") {
            let once = normalize_term(&text);
            prop_assert_eq!(normalize_term(&once), once);
        }

        /// The classes of character that meet at word breaks, mixed densely: control bytes
        /// (which vanish), ideographs, letters, leetspeak, symbols, invisible characters.
        #[test]
        fn normalisation_is_idempotent_where_classes_meet(
            text in "[\\x00-\\x08\\x7Fa-dA-D0-5 .:+$@!|\u{200B}\u{0131}\u{0456}正品朗路]{0,24}",
        ) {
            let once = normalize_term(&text);
            prop_assert_eq!(normalize_term(&once), once);
        }

        #[test]
        fn normalised_text_maps_back_into_the_input(text in "\\PC{0,40}") {
            let mut out = Normalized::default();
            normalize(&text, &mut out);
            prop_assert_eq!(out.text.len(), out.origins().count());
            prop_assert!(out.origins().all(|o| o < text.len().max(1)));
            prop_assert!(out.origins().all(|o| text.is_char_boundary(o)));
        }

        #[test]
        fn every_letter_points_at_the_character_it_came_from(text in "(\\PC|[a-zA-Z0-9 .,!$@|-]){0,40}") {
            let mut out = Normalized::default();
            normalize(&text, &mut out);
            for (j, &b) in out.text.iter().enumerate() {
                if !b.is_ascii_alphanumeric() {
                    continue;
                }
                let origin = out.origin(j);
                let source = text[origin..].chars().next().unwrap();
                // A letter after it, for symbols that stand for a letter only before one;
                // and one before it too, for marks that stand for a letter only after one.
                let alone = normalize_term(&format!("{source}q"));
                let alone = alone.strip_suffix('q').unwrap_or(&alone);
                let between = normalize_term(&format!("q{source}q"));
                let between = between.strip_prefix('q').and_then(|s| s.strip_suffix('q'));
                prop_assert!(
                    alone.as_bytes().contains(&b)
                        || between.is_some_and(|between| between.as_bytes().contains(&b)),
                    "byte {} ({:?}) of {:?} claims to come from {:?}", j, b as char, out.as_str(), source
                );
            }
        }

        #[test]
        fn a_name_matches_itself_exactly_in_any_case(name in name()) {
            let engine = one_brand_engine(&capitalised(&name));
            for written in [name.clone(), name.to_uppercase(), capitalised(&name)] {
                let title = format!("new {written} bag");
                prop_assert!(found(&engine, &title).is_empty(), "{}", title);
            }
        }

        #[test]
        fn a_name_matches_through_leetspeak(name in name(), pick in prop::collection::vec(any::<bool>(), 1..8)) {
            let engine = one_brand_engine(&name);
            if let Some(leet) = substitute(&name, LEET, &pick) {
                prop_assume!(leet.chars().any(|c| c.is_ascii_alphabetic()));
                let methods = found(&engine, &format!("new {leet} bag"));
                prop_assert!(methods.contains(&MatchMethod::Leetspeak), "{leet}: {methods:?}");
            }
        }

        #[test]
        fn a_name_matches_through_look_alike_letters(name in name(), pick in prop::collection::vec(any::<bool>(), 1..8)) {
            let engine = one_brand_engine(&name);
            if let Some(confused) = substitute(&name, CYRILLIC, &pick) {
                let methods = found(&engine, &format!("new {confused} bag"));
                prop_assert!(methods.contains(&MatchMethod::Confusable), "{confused}: {methods:?}");
            }
        }

        #[test]
        fn a_name_matches_when_spaced_out(name in name(), separator in prop::sample::select(vec![".", " ", "-", " . ", "_", "*"])) {
            let engine = one_brand_engine(&name);
            let spaced: Vec<String> = name.chars().map(|c| c.to_string()).collect();
            let spaced = spaced.join(separator);
            let methods = found(&engine, &format!("new {spaced} bag"));
            prop_assert!(methods.contains(&MatchMethod::Spaced), "{spaced}: {methods:?}");
        }

        #[test]
        fn a_name_matches_one_edit_away(name in name(), at in any::<prop::sample::Index>(), edit in 0..4usize, letter in "[a-z]") {
            let engine = one_brand_engine(&name);
            let mut chars: Vec<char> = name.chars().collect();
            let i = at.index(chars.len());
            let letter = letter.chars().next().unwrap();
            match edit {
                0 => chars[i] = letter,
                1 => { chars.remove(i); }
                2 => chars.insert(i, letter),
                _ => {
                    let j = if i + 1 < chars.len() { i + 1 } else { i - 1 };
                    chars.swap(i, j);
                }
            }
            let typo: String = chars.into_iter().collect();
            let normalized = normalize_term(&typo);
            prop_assume!(normalized != normalize_term(&name));
            // A real word of some language one edit from a name is not a misspelling of it.
            prop_assume!(!lexicon().kind(normalized.as_bytes()).is_real());
            let methods = found(&engine, &format!("new {typo} bag"));
            prop_assert!(methods.contains(&MatchMethod::Fuzzy), "{typo}: {methods:?}");
        }
    }
}
