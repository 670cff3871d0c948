//! A listing as the feed receives it — any bytes, decoded as the wire message — checked
//! and, when accepted, screened against a synthetic catalogue of 300 brands: no panic, a
//! risk score in [0, 1], and every text span inside the field it names, quoting it.
#![no_main]

use std::sync::LazyLock;

use assay_common::language::Language;
use assay_common::money::CurrencyCode;
use assay_proto::screening::v1::Listing;
use assay_proto::screening::v1::signal::Detail;
use assay_screening::engine::{Engine, EngineInput, ExchangeRates, Scratch, say};
use assay_screening::{listing, synthetic};
use libfuzzer_sys::fuzz_target;
use prost::Message;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let rates = ExchangeRates::new(
        [("USD", 1.0), ("EUR", 1.08), ("CNY", 0.14)]
            .map(|(c, r)| (CurrencyCode::parse(c).expect("currency"), r)),
    );
    Engine::compile(EngineInput {
        catalogue_revision: 1,
        rule_version: 1,
        brands: synthetic::catalogue(300, 7),
        rates,
        ..EngineInput::default()
    })
    .expect("the synthetic catalogue compiles")
});

fuzz_target!(|data: &[u8]| {
    let Ok(received) = Listing::decode(data) else {
        return;
    };
    let checked = match listing::check(received, "listing") {
        Ok(checked) => checked,
        Err(violations) => {
            assert!(!violations.is_empty(), "refused without a reason");
            return;
        }
    };
    let mut verdict = ENGINE.screen(&checked.input(), &mut Scratch::default());
    // Whatever the listing, its explanations are written whole in both languages.
    for language in Language::ALL {
        say::write(&mut verdict, language);
        for signal in &verdict.signals {
            assert!(!signal.explanation.is_empty(), "{signal:?}");
        }
    }
    assert!(
        (0.0..=1.0).contains(&verdict.risk_score),
        "risk {}",
        verdict.risk_score
    );
    for signal in &verdict.signals {
        let Some(Detail::Text(span)) = &signal.detail else {
            continue;
        };
        let text = match span.field {
            1 => &checked.listing.title,
            2 => &checked.listing.description,
            other => panic!("a span in field {other}"),
        };
        let (start, end) = (span.start as usize, span.end as usize);
        let length = text.chars().count();
        assert!(start <= end && end <= length, "{start}..{end} of {length}");
        let quoted: String = text.chars().skip(start).take(end - start).collect();
        assert_eq!(quoted, span.matched_text);
    }
});
