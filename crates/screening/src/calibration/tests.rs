use assay_proto::screening::v1::{BrandConcern, Decision};

use super::*;

/// A hit about `brand` (or about no brand) with signals `(kind, contribution)`, the brand's
/// ones first; its risk combined as the engine combines it.
fn verdict(
    brand: Option<&str>,
    brand_signals: &[(SignalKind, f64)],
    listing: &[(SignalKind, f64)],
) -> Verdict {
    let signal = |(kind, contribution): &(SignalKind, f64), brand_id: &str| Signal {
        kind: *kind as i32,
        brand_id: brand_id.to_owned(),
        contribution: *contribution,
        base_contribution: *contribution,
        ..Signal::default()
    };
    let mut signals: Vec<Signal> = brand_signals
        .iter()
        .map(|s| signal(s, brand.unwrap_or_default()))
        .collect();
    signals.extend(listing.iter().map(|s| signal(s, "")));
    let risk = noisy_or(signals.iter().map(|s| s.contribution));
    Verdict {
        risk_score: match brand {
            Some(_) => risk,
            None => (risk * VOCABULARY_ONLY.0).min(VOCABULARY_ONLY.1),
        },
        decision: Decision::Review as i32,
        brands: brand
            .map(|b| BrandConcern {
                brand_id: b.to_owned(),
                risk_score: risk,
                ..BrandConcern::default()
            })
            .into_iter()
            .collect(),
        signals,
        ..Verdict::default()
    }
}

fn observe(verdict: &Verdict, confirmed: bool) -> Observation {
    Observation::of(verdict, confirmed, |_| 0.5).expect("a hit the fit can learn from")
}

/// `count` hits about `brand`: its name in the title and its category, `confirmed` of them
/// confirmed.
fn hits(brand: &str, count: usize, confirmed: usize) -> Vec<Observation> {
    let v = verdict(
        Some(brand),
        &[(SignalKind::BrandText, 0.45), (SignalKind::Category, 0.15)],
        &[],
    );
    (0..count).map(|i| observe(&v, i < confirmed)).collect()
}

/// The risk of `verdict`'s evidence under `shifts`.
fn risk_under(shifts: &Shifts, verdict: &Verdict) -> f64 {
    let mut signals = verdict.signals.clone();
    for s in &mut signals {
        shifts.apply(s);
    }
    noisy_or(signals.iter().map(|s| s.contribution))
}

fn brand_shift(fit: &Fit, brand: &str) -> Option<f64> {
    fit.brands
        .iter()
        .find(|w| w.subject == brand)
        .map(|w| w.shift)
}

fn kind_shift(fit: &Fit, kind: SignalKind) -> f64 {
    fit.kinds.iter().find(|w| w.subject == kind).unwrap().shift
}

/// splitmix64: reproducible noise without a dependency.
fn noise(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

#[test]
fn a_shift_moves_a_contribution_in_log_odds_and_none_leaves_it_alone() {
    assert_eq!(shifted(0.4, 0.0), 0.4);
    assert_eq!(shifted(0.0, 2.0), 0.0);
    assert!(shifted(0.4, 1.0) > 0.4 && shifted(0.4, -1.0) < 0.4);
    assert!((shifted(shifted(0.4, 1.3), -1.3) - 0.4).abs() < 1e-12);
    // ln(0.4 / 0.6) + ln(1.5) = 0: even odds.
    assert!((shifted(0.4, 1.5f64.ln()) - 0.5).abs() < 1e-12);
}

#[test]
fn applying_a_calibration_keeps_the_contribution_before_it() {
    let shifts = Shifts::new(
        3,
        [(SignalKind::Category as i32, -1.0)],
        [("brand_a".to_owned(), 0.5)],
    );
    let mut about_brand = Signal {
        kind: SignalKind::Category as i32,
        brand_id: "brand_a".into(),
        contribution: 0.15,
        ..Signal::default()
    };
    shifts.apply(&mut about_brand);
    assert_eq!(about_brand.base_contribution, 0.15);
    assert!((about_brand.contribution - shifted(0.15, -0.5)).abs() < 1e-12);
    let mut seller = Signal {
        kind: SignalKind::Seller as i32,
        contribution: 0.10,
        ..Signal::default()
    };
    shifts.apply(&mut seller);
    assert_eq!(
        (seller.base_contribution, seller.contribution),
        (0.10, 0.10)
    );
}

#[test]
fn brands_analysts_dismiss_weaken_and_brands_they_confirm_strengthen() {
    let mut observations = hits("brand_dismissed", 60, 6);
    observations.extend(hits("brand_confirmed", 60, 57));
    observations.extend(hits("brand_rare", 10, 0));
    let fit = fit(&observations, &Shifts::default());
    let dismissed = brand_shift(&fit, "brand_dismissed").unwrap();
    let confirmed = brand_shift(&fit, "brand_confirmed").unwrap();
    assert!(dismissed < -0.5, "{dismissed}");
    assert!(confirmed > 0.5, "{confirmed}");
    // Ten hits are not enough to move a brand, and it is not listed.
    assert_eq!(brand_shift(&fit, "brand_rare"), None);
    // Kinds without feedback stay where they were.
    assert_eq!(kind_shift(&fit, SignalKind::Image), 0.0);
    assert_eq!(fit.hits_used, 130);

    let shifts = fit.shifts(1);
    let after = |brand: &str| {
        let v = verdict(
            Some(brand),
            &[(SignalKind::BrandText, 0.45), (SignalKind::Category, 0.15)],
            &[],
        );
        risk_under(&shifts, &v)
    };
    // The predicted risk moves towards the share analysts confirmed.
    assert!(
        after("brand_dismissed") < 0.35,
        "{}",
        after("brand_dismissed")
    );
    assert!(
        after("brand_confirmed") > 0.75,
        "{}",
        after("brand_confirmed")
    );

    let report = &fit.report;
    assert!(report.log_loss_after < report.log_loss_before);
    // Every hit was flagged (risk 0.53): brand_dismissed's fall below review, its 6
    // confirmed with its 54 false positives; brand_rare's too if the kinds fell far enough.
    let rare = if after("brand_rare") < 0.5 { 10 } else { 0 };
    assert_eq!(report.false_positives_no_longer_flagged, 54 + rare);
    assert_eq!(report.confirmed_no_longer_flagged, 6);
    let binned: i64 = report.bins_after.iter().map(|b| b.hits).sum();
    assert_eq!(binned, 130);
}

#[test]
fn feedback_that_agrees_with_the_weights_moves_them_little() {
    // Hits whose outcome is drawn with the probability the engine gives them.
    let mut state = 7;
    let mut verdicts = Vec::new();
    let mut observations = Vec::new();
    for i in 0..4_000 {
        let text = [0.40, 0.45, 0.60][i % 3];
        let mut brand = vec![(SignalKind::BrandText, text)];
        if i % 2 == 0 {
            brand.push((SignalKind::Price, 0.35));
        }
        let listing = if i % 5 == 0 {
            vec![(SignalKind::Vocabulary, 0.5)]
        } else {
            vec![]
        };
        let v = verdict(Some(&format!("brand_{}", i % 4)), &brand, &listing);
        let confirmed = noise(&mut state) < v.risk_score;
        observations.push(observe(&v, confirmed));
        verdicts.push(v);
    }
    let fit = fit(&observations, &Shifts::default());
    // A kind's shift and a brand's can trade off; the risks they give cannot.
    let shifts = fit.shifts(1);
    for v in &verdicts {
        assert!(
            (risk_under(&shifts, v) - v.risk_score).abs() < 0.05,
            "{fit:#?}"
        );
    }
    assert!(fit.report.log_loss_after <= fit.report.log_loss_before);
}

#[test]
fn the_report_compares_with_the_calibration_in_use() {
    let observations = hits("brand_dismissed", 40, 4);
    let previous = Shifts::new(
        2,
        [],
        [
            ("brand_gone".to_owned(), 0.8),
            ("brand_dismissed".to_owned(), -0.2),
        ],
    );
    let fit = fit(&observations, &previous);
    assert_eq!(fit.report.previous_version, 2);
    let dismissed = fit
        .brands
        .iter()
        .find(|w| w.subject == "brand_dismissed")
        .unwrap();
    assert_eq!(dismissed.previous_shift, -0.2);
    assert_eq!((dismissed.confirmed, dismissed.false_positives), (4, 36));
    // A brand moved before and without feedback now goes back to its weights as built.
    let gone = fit
        .brands
        .iter()
        .find(|w| w.subject == "brand_gone")
        .unwrap();
    assert_eq!((gone.shift, gone.previous_shift), (0.0, 0.8));
}

#[test]
fn nothing_to_learn_from_changes_nothing() {
    let fit = fit(&[], &Shifts::default());
    assert_eq!(fit.hits_used, 0);
    assert!(fit.kinds.iter().all(|w| w.shift == 0.0));
    assert!(fit.brands.is_empty());
    assert_eq!(fit.shifts(1), Shifts::new(1, [], []));
}

#[test]
fn capped_risks_teach_nothing_and_earlier_weights_do_not_compound() {
    // A weak name without support: its risk was held at a cap below its evidence.
    let mut capped = verdict(Some("brand_a"), &[(SignalKind::BrandText, 0.55)], &[]);
    capped.brands[0].risk_score = 0.20;
    assert!(Observation::of(&capped, false, |_| 0.5).is_none());
    // Vocabulary alone beyond its cap.
    let loud = verdict(
        None,
        &[],
        &[(SignalKind::Vocabulary, 0.6), (SignalKind::Vocabulary, 0.6)],
    );
    assert!(Observation::of(&loud, true, |_| 0.5).is_none());
    let quiet = verdict(None, &[], &[(SignalKind::Vocabulary, 0.5)]);
    assert!(Observation::of(&quiet, true, |_| 0.5).is_some());

    // A hit screened under a calibration is learned from its weights before it.
    let mut calibrated = verdict(Some("brand_a"), &[(SignalKind::BrandText, 0.40)], &[]);
    let shifts = Shifts::new(1, [(SignalKind::BrandText as i32, 1.0)], []);
    shifts.apply(&mut calibrated.signals[0]);
    calibrated.brands[0].risk_score = calibrated.signals[0].contribution;
    let observed = observe(&calibrated, true);
    assert_eq!(
        observed.evidence,
        [(0.40, SignalKind::BrandText as i32, true)]
    );
}

#[test]
fn bands_hold_what_falls_in_them() {
    let bins = bins([(0.55, true), (0.58, false), (0.95, true), (1.0, true)]);
    assert_eq!(bins.len(), 2);
    assert_eq!((bins[0].hits, bins[0].confirmed_share), (2, 0.5));
    assert!((bins[0].mean_risk - 0.565).abs() < 1e-12);
    assert_eq!(
        (bins[1].risk_from, bins[1].risk_to, bins[1].hits),
        (0.9, 1.0, 2)
    );
}
