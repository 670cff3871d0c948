//! Screens synthetic listings in a loop, for profilers:
//! `cargo build --release -p assay-screening --example profile`, then
//! `perf record target/release/examples/profile 5` or
//! `valgrind --tool=callgrind target/release/examples/profile 1 10000`. A third argument,
//! `en` or `zh-Hans`, writes every explanation in that language, as the service does.

use assay_common::language::Language;
use assay_common::money::CurrencyCode;
use assay_screening::engine::{Engine, EngineInput, ExchangeRates, Scratch, Thresholds, say};
use assay_screening::listing::check;
use assay_screening::synthetic;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let language = args
        .next()
        .map(|tag| Language::of_tag(&tag).expect("en or zh-Hans"));
    let brands = synthetic::catalogue(10_000, 7);
    let listings: Vec<_> = synthetic::listings(&brands, count, 11)
        .into_iter()
        .map(|l| check(l, "listing").expect("valid"))
        .collect();
    let engine = Engine::compile(EngineInput {
        brands,
        thresholds: Thresholds::default(),
        rates: ExchangeRates::new([(CurrencyCode::parse("USD").unwrap(), 1.0)]),
        ..EngineInput::default()
    })
    .expect("compiles");
    let mut scratch = Scratch::default();
    let started = std::time::Instant::now();
    let mut flagged = 0;
    for _ in 0..rounds {
        for listing in &listings {
            let mut verdict = engine.screen(&listing.input(), &mut scratch);
            if let Some(language) = language {
                say::write(&mut verdict, language);
            }
            flagged += usize::from(verdict.decision != 1);
        }
    }
    let per_second = (rounds * listings.len()) as f64 / started.elapsed().as_secs_f64();
    println!("{per_second:.0} listings/s, {flagged} flagged");
}
