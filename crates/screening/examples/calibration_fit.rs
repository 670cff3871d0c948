//! How long a calibration takes to fit: 100,000 hits with feedback about 2,000 brands, each
//! with four signals, confirmed at a share that differs by brand.
//!
//! `cargo run --release -p assay-screening --example calibration_fit`

use assay_proto::screening::v1::{BrandConcern, Signal, SignalKind, Verdict};
use assay_screening::calibration::{Observation, Shifts, fit};

fn signal(kind: SignalKind, brand_id: &str, contribution: f64) -> Signal {
    Signal {
        kind: kind as i32,
        brand_id: brand_id.to_owned(),
        contribution,
        ..Default::default()
    }
}

fn main() {
    let mut obs = Vec::new();
    let mut state = 1u64;
    for i in 0..100_000u64 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let brand = format!("brand_{}", i % 2000);
        let signals = vec![
            signal(SignalKind::BrandText, &brand, 0.45),
            signal(SignalKind::Category, &brand, 0.15),
            signal(SignalKind::Price, &brand, 0.5),
            signal(SignalKind::Vocabulary, "", 0.3),
        ];
        let risk = 1.0 - signals.iter().fold(1.0, |k, s| k * (1.0 - s.contribution));
        let v = Verdict {
            risk_score: risk,
            brands: vec![BrandConcern {
                brand_id: brand,
                risk_score: risk,
                ..Default::default()
            }],
            signals,
            ..Default::default()
        };
        obs.push(Observation::of(&v, (state >> 33) % 100 < (i % 2000 / 20), |_| 0.5).unwrap());
    }
    let t = std::time::Instant::now();
    let f = fit(&obs, &Shifts::default());
    println!(
        "fit of {} hits, {} brands moved: {:?}",
        f.hits_used,
        f.brands.len(),
        t.elapsed()
    );
}
