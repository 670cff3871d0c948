//! The engine against its floor and a naive baseline, in one run.
//!
//! - `engine`: the whole engine (normalisation, automaton, misspellings, images, scoring,
//!   verdicts with their explanations as messages) on 100,000 listings against 10,000
//!   brands; `engine_explained` and `engine_explained_zh` also write every explanation
//!   out, in English and in Simplified Chinese, as the service does before it answers;
//! - `floor`: a bare Aho-Corasick scan of the same bytes (title and description) for the
//!   same terms — what any matcher must at least pay;
//! - `naive`: one substring search per brand term, on the first 1,000 listings.
//!
//! Run with `cargo bench -p assay-screening --bench engine`; the summary at the end prints
//! listings per second per core and the ratios.

use std::hint::black_box;
use std::time::Duration;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use assay_common::language::Language;
use assay_common::money::CurrencyCode;
use assay_screening::engine::lexicon::BUILT_IN_VOCABULARY;
use assay_screening::engine::normalize::normalize_term;
use assay_screening::engine::{
    Engine, EngineInput, ExchangeRates, Scratch, SellerLink, Thresholds, say,
};
use assay_screening::listing::{CheckedListing, check};
use assay_screening::sellers::{SellerBook, Standing};
use assay_screening::synthetic;
use criterion::{Criterion, Throughput};

/// The allocator of the `assay` binary, so the engine is measured as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BRANDS: usize = 10_000;
const LISTINGS: usize = 100_000;
const NAIVE_LISTINGS: usize = 1_000;

struct Setup {
    engine: Engine,
    listings: Vec<CheckedListing>,
    terms: Vec<String>,
    /// Case management's standing of one seller in five (of 5,000): strikes, and for some a
    /// link to a repeat infringer.
    sellers: SellerBook,
}

/// Standings of every fifth synthetic seller, as case management would send them.
fn seller_book() -> SellerBook {
    let now = chrono::Utc::now();
    let book = SellerBook::default();
    book.apply((0..5000).step_by(5).map(|i| {
        let strikes = 1 + i % 4;
        (
            format!("seller-{i}"),
            Standing {
                strike_times: (0..strikes)
                    .map(|d| now - chrono::Duration::days(d as i64 * 30))
                    .collect(),
                window: Duration::from_secs(365 * 86_400),
                repeat_infringer_strikes: 3,
                links: if i % 10 == 0 {
                    vec![SellerLink {
                        seller_id: format!("seller-{}", i + 5),
                        evidence: "payment account".to_owned(),
                    }]
                } else {
                    Vec::new()
                },
                as_of: now,
            },
        )
    }));
    book
}

fn setup() -> Setup {
    let brands = synthetic::catalogue(BRANDS, 7);
    let listings: Vec<CheckedListing> = synthetic::listings(&brands, LISTINGS, 11)
        .into_iter()
        .map(|l| check(l, "listing").expect("synthetic listings are valid"))
        .collect();
    let mut terms: Vec<String> = brands
        .iter()
        .flat_map(|b| std::iter::once(&b.name).chain(&b.aliases))
        .map(|t| t.to_lowercase())
        .chain(BUILT_IN_VOCABULARY.iter().map(|(t, _)| (*t).to_owned()))
        .collect();
    terms.sort();
    terms.dedup();
    let rates = ExchangeRates::new(
        [("USD", 1.0), ("EUR", 1.08), ("CNY", 0.14)]
            .map(|(c, r)| (CurrencyCode::parse(c).unwrap(), r)),
    );
    let engine = Engine::compile(EngineInput {
        catalogue_revision: 1,
        rule_version: 1,
        brands,
        rules: Vec::new(),
        thresholds: Thresholds::default(),
        rates,
        ..EngineInput::default()
    })
    .expect("engine compiles");
    Setup {
        engine,
        listings,
        terms,
        sellers: seller_book(),
    }
}

fn benches(c: &mut Criterion, setup: &Setup) {
    let stats = setup.engine.stats();
    eprintln!(
        "catalogue: {} brands, {} brand terms, {} vocabulary terms, {} automaton patterns, {} fuzzy keys, {} logos; compiled in {:.0} ms",
        stats.brands,
        stats.brand_terms,
        stats.vocabulary_terms,
        setup.engine.pattern_count(),
        stats.fuzzy_keys,
        stats.logo_hashes,
        stats.build_millis
    );
    let bytes: usize = setup
        .listings
        .iter()
        .map(|l| l.listing.title.len() + l.listing.description.len())
        .sum();
    eprintln!(
        "listings: {LISTINGS}, {:.0} bytes of text each on average",
        bytes as f64 / LISTINGS as f64
    );

    let mut group = c.benchmark_group("screening");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(LISTINGS as u64));

    group.bench_function("engine", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            let mut flagged = 0usize;
            for listing in &setup.listings {
                let verdict = setup.engine.screen(&listing.input(), &mut scratch);
                flagged += usize::from(verdict.decision != 1);
            }
            black_box(flagged)
        })
    });

    // As the service screens: each listing's seller looked up in case management's
    // standings, and weighed with its strikes and links.
    group.bench_function("engine_with_sellers", |b| {
        let mut scratch = Scratch::default();
        let now = chrono::Utc::now();
        b.iter(|| {
            let mut flagged = 0usize;
            let sellers = setup.sellers.snapshot();
            for listing in &setup.listings {
                let standing = sellers.get(&listing.listing.seller_id);
                let input = listing.input_with(standing.map(|s| s.record(now)));
                let verdict = setup.engine.screen(&input, &mut scratch);
                flagged += usize::from(verdict.decision != 1);
            }
            black_box(flagged)
        })
    });

    // As the service answers: every explanation written out, in English and, for a caller
    // who prefers it, in Chinese.
    for (name, language) in [
        ("engine_explained", Language::English),
        ("engine_explained_zh", Language::SimplifiedChinese),
    ] {
        group.bench_function(name, |b| {
            let mut scratch = Scratch::default();
            b.iter(|| {
                let mut flagged = 0usize;
                for listing in &setup.listings {
                    let mut verdict = setup.engine.screen(&listing.input(), &mut scratch);
                    say::write(&mut verdict, language);
                    flagged += usize::from(verdict.decision != 1);
                }
                black_box(flagged)
            })
        });
    }

    let floor = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .build(setup.terms.iter().map(|t| normalize_term(t)))
        .expect("floor automaton");
    group.bench_function("floor", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for listing in &setup.listings {
                found += floor.find_iter(listing.listing.title.as_bytes()).count();
                found += floor
                    .find_iter(listing.listing.description.as_bytes())
                    .count();
            }
            black_box(found)
        })
    });

    group.throughput(Throughput::Elements(NAIVE_LISTINGS as u64));
    group.bench_function("naive", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for listing in &setup.listings[..NAIVE_LISTINGS] {
                let title = listing.listing.title.to_lowercase();
                let description = listing.listing.description.to_lowercase();
                for term in &setup.terms {
                    found += usize::from(
                        title.contains(term.as_str()) || description.contains(term.as_str()),
                    );
                }
            }
            black_box(found)
        })
    });
    group.finish();
}

fn output_directory() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("criterion")
}

/// Reads criterion's mean estimate of a benchmark, in nanoseconds per iteration.
fn mean_ns(name: &str) -> Option<f64> {
    let path = output_directory().join(format!("screening/{name}/new/estimates.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn main() {
    let setup = setup();
    let mut criterion = Criterion::default()
        .output_directory(&output_directory())
        .configure_from_args();
    benches(&mut criterion, &setup);
    criterion.final_summary();

    let per_second =
        |name: &str, listings: usize| mean_ns(name).map(|ns| listings as f64 / (ns / 1e9));
    if let (Some(engine), Some(with_sellers), Some(explained), Some(zh), Some(floor), Some(naive)) = (
        per_second("engine", LISTINGS),
        per_second("engine_with_sellers", LISTINGS),
        per_second("engine_explained", LISTINGS),
        per_second("engine_explained_zh", LISTINGS),
        per_second("floor", LISTINGS),
        per_second("naive", NAIVE_LISTINGS),
    ) {
        println!("\nlistings per second on one core ({BRANDS} brands):");
        println!("  engine  {engine:>12.0}");
        println!(
            "  engine with sellers' standing {with_sellers:>12.0}   ({} standings)",
            setup.sellers.len()
        );
        println!("  engine, explanations written {explained:>12.0}   (English)");
        println!("  engine, explanations written {zh:>12.0}   (Simplified Chinese)");
        println!("  floor   {floor:>12.0}   (bare Aho-Corasick scan)");
        println!("  naive   {naive:>12.0}   (substring search per term)");
        println!(
            "engine is {:.2}x the floor's time and {:.0}x faster than naive",
            floor / engine,
            engine / naive
        );
    }
}
