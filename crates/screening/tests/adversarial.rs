//! Screening against disguises and real language, on sets generated from sources no one
//! here wrote (`testdata/adversarial/generate.py`): dnstwist's typosquatting permutations,
//! the Unicode confusables data, styled and reversed forms, and wordfreq's word lists in six
//! languages, over the catalogue of `testdata/brands.json`.
//!
//! A disguised counterfeit counts as caught when it is flagged (review or block) *and* the
//! brand it disguises is named first. Run with `--nocapture` for the figures per kind and
//! per language, and the first misses of each kind.

mod support;

use std::collections::BTreeMap;

use assay_common::language::Language;
use assay_proto::screening::v1::{Decision, Listing, SellerFacts, Verdict};
use assay_screening::calibration::{self, Observation, Shifts};
use assay_screening::engine::{Engine, Scratch, say};
use assay_screening::listing::check;
use serde::Deserialize;
use support::MoneyJson;

#[derive(Clone, Deserialize)]
struct Row {
    kind: String,
    language: String,
    brand_id: String,
    title: String,
    description: String,
    category: String,
    price: MoneyJson,
    young_seller: bool,
}

fn rows(jsonl: &str) -> Vec<Row> {
    jsonl
        .lines()
        .map(|line| serde_json::from_str(line).expect("a row"))
        .collect()
}

fn screen(engine: &Engine, scratch: &mut Scratch, row: Row, n: usize) -> (Verdict, String) {
    let title = row.title.clone();
    let listing = Listing {
        listing_id: format!("adv-{n}"),
        seller_id: format!("seller-{n}"),
        title: row.title,
        description: row.description,
        category: row.category,
        price: Some(row.price.into()),
        images: Vec::new(),
        ship_from_country: "CN".into(),
        seller: Some(SellerFacts {
            account_age_days: if row.young_seller { 12 } else { 900 },
            rating: Some(4.6),
            prior_strikes: 0,
        }),
    };
    let checked = check(listing, "listing").expect("a valid listing");
    let mut verdict = engine.screen(&checked.input(), scratch);
    say::write(&mut verdict, Language::English);
    (verdict, title)
}

fn flagged(verdict: &Verdict) -> bool {
    verdict.decision != Decision::Allow as i32
}

/// (right, total) per key, and a few examples of what went wrong.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<String, (usize, usize)>,
    examples: BTreeMap<String, Vec<String>>,
}

impl Tally {
    fn add(&mut self, key: &str, right: bool, example: impl FnOnce() -> String) {
        let entry = self.counts.entry(key.to_owned()).or_default();
        entry.1 += 1;
        if right {
            entry.0 += 1;
        } else {
            let examples = self.examples.entry(key.to_owned()).or_default();
            if examples.len() < 4 {
                examples.push(example());
            }
        }
    }

    fn total(&self) -> (usize, usize) {
        self.counts
            .values()
            .fold((0, 0), |(r, t), (right, total)| (r + right, t + total))
    }

    fn print(&self, what: &str) {
        for (key, (right, total)) in &self.counts {
            println!(
                "  {key:<22} {what} {:>6.1}%  ({right} of {total})",
                100.0 * *right as f64 / *total as f64
            );
            for example in self.examples.get(key).into_iter().flatten() {
                println!("      {example}");
            }
        }
    }
}

#[test]
fn disguised_counterfeits_are_caught_and_named() {
    let engine = support::engine();
    let mut scratch = Scratch::default();
    let mut caught = Tally::default();
    let mut wrong_brand = Vec::new();
    for (n, row) in rows(include_str!("../testdata/adversarial/disguised.jsonl"))
        .into_iter()
        .enumerate()
    {
        let (kind, brand_id) = (row.kind.clone(), row.brand_id.clone());
        let (verdict, title) = screen(&engine, &mut scratch, row, n);
        let named = verdict.brands.first().map(|b| b.brand_id.as_str());
        if flagged(&verdict) && named.is_some_and(|b| b != brand_id) {
            wrong_brand.push(format!(
                "{kind}: {title:?} named {:?}",
                verdict.brands[0].brand_name
            ));
        }
        caught.add(&kind, flagged(&verdict) && named == Some(&brand_id), || {
            format!(
                "{title:?} ({:.2}, {})",
                verdict.risk_score,
                named.map_or("no brand".into(), |_| verdict.brands[0].brand_name.clone())
            )
        });
    }
    let (right, total) = caught.total();
    let recall = right as f64 / total as f64;
    println!(
        "disguised counterfeits flagged with the right brand: {right} of {total} ({:.1}%)",
        100.0 * recall
    );
    caught.print("caught");
    println!("flagged under another brand: {}", wrong_brand.len());
    for line in wrong_brand.iter().take(10) {
        println!("      {line}");
    }
    // Floors, a little under what the engine does today (BENCHMARKS.md), so that a change
    // that loses ground fails here; every kind at the goal of 97%. What is still
    // missed most: typos that are real words of a language the lexicon knows, with nothing
    // else in the listing that says counterfeit ("Omga brown watch").
    assert!(recall >= 0.99, "recall {recall:.3}");
    for (kind, (right, total)) in &caught.counts {
        let share = *right as f64 / *total as f64;
        assert!(share >= 0.97, "{kind}: {share:.3} under 0.97");
    }
    assert!(
        wrong_brand.is_empty(),
        "{} named another brand",
        wrong_brand.len()
    );
}

#[test]
fn real_language_is_left_alone() {
    let engine = support::engine();
    let mut scratch = Scratch::default();
    let mut passed = Tally::default();
    for (n, row) in rows(include_str!("../testdata/adversarial/legitimate.jsonl"))
        .into_iter()
        .enumerate()
    {
        let key = format!("{} {}", row.kind, row.language);
        let (verdict, title) = screen(&engine, &mut scratch, row, n);
        passed.add(&key, !flagged(&verdict), || {
            format!(
                "{title:?} ({:.2}, {})",
                verdict.risk_score,
                verdict
                    .signals
                    .first()
                    .map_or("", |s| s.explanation.as_str())
            )
        });
    }
    println!("legitimate titles left alone:");
    passed.print("allowed");
    let share = |prefix: &str| {
        let (right, total) = passed
            .counts
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .fold((0, 0), |(r, t), (_, (right, total))| (r + right, t + total));
        1.0 - right as f64 / total as f64
    };
    let (words, near, partial) = (share("words"), share("near-brand"), share("partial-name"));
    let (known, rare) = (share("near-word-known"), share("near-word-rare"));
    println!(
        "falsely flagged: words one edit from a brand from the frequency lists, the lexicon's {:.2}%, rarer {:.2}%",
        100.0 * known,
        100.0 * rare
    );
    println!(
        "falsely flagged: real-language titles {:.3}%, real words one edit from a brand {:.2}%, titles starting with a word of a brand's name {:.2}%",
        100.0 * words,
        100.0 * near,
        100.0 * partial
    );
    // Words one letter from a brand come from spelling dictionaries, not the frequency
    // lists the engine's lexicon is made of: those it does not know it cannot tell from a
    // misspelling, and a low price then supports it. (A dictionary's word that only
    // normalises like a known one, "Liego" like "llego", is not known either.)
    assert!(words <= 0.001, "real-language titles flagged: {words:.4}");
    assert!(near <= 0.17, "near words flagged: {near:.4}");
    // The same from the frequency lists: the first 100,000 words of each language, which
    // the lexicon holds, are told from misspellings (the goal is 1%); the next
    // 100,000 are not known, and many of them are misspellings of the brands themselves
    // ("Chanels", "Chenel", "Guccio").
    assert!(
        known <= 0.01,
        "known words one edit from a brand flagged: {known:.4}"
    );
    assert!(
        rare <= 0.36,
        "rarer words one edit from a brand flagged: {rare:.4}"
    );
    assert!(partial <= 0.01, "partial names flagged: {partial:.4}");
}

/// Learning from feedback, measured on listings it did not learn from: analysts' verdicts
/// on the hits of every other listing of both sets (disguised counterfeits confirmed, real
/// language dismissed) are fitted into a calibration, and the rest screened again with it.
#[test]
fn feedback_on_half_the_listings_calibrates_the_other_half() {
    let engine = support::engine();
    let mut scratch = Scratch::default();
    let disguised = rows(include_str!("../testdata/adversarial/disguised.jsonl"));
    let legitimate = rows(include_str!("../testdata/adversarial/legitimate.jsonl"));
    let all: Vec<(Row, bool)> = disguised
        .into_iter()
        .map(|r| (r, true))
        .chain(legitimate.into_iter().map(|r| (r, false)))
        .collect();
    let mut observations = Vec::new();
    let mut held_out = Vec::new();
    for (n, (row, counterfeit)) in all.into_iter().enumerate() {
        if n % 2 == 1 {
            held_out.push((n, row, counterfeit));
            continue;
        }
        let (verdict, _) = screen(&engine, &mut scratch, row, n);
        if flagged(&verdict) {
            observations.extend(Observation::of(&verdict, counterfeit, |brand| {
                engine.review_threshold(brand)
            }));
        }
    }
    let fit = calibration::fit(&observations, &Shifts::default());
    let report = fit.report.clone();
    println!(
        "learned from {} hits: log loss {:.4} -> {:.4}; {} brands moved",
        fit.hits_used,
        report.log_loss_before,
        report.log_loss_after,
        fit.brands.iter().filter(|w| w.shift != 0.0).count()
    );
    for w in &fit.kinds {
        println!(
            "  {:?} {:+.3} ({} confirmed, {} dismissed)",
            w.subject, w.shift, w.confirmed, w.false_positives
        );
    }
    let calibrated = support::calibrated_engine(fit.shifts(1));

    // (caught, counterfeits, falsely flagged, legitimate), and the log loss of the flagged.
    let mut before = (0, 0, 0, 0);
    let mut after = (0, 0, 0, 0);
    let mut loss = (0.0, 0.0, 0usize);
    for (n, row, counterfeit) in held_out {
        let brand_id = row.brand_id.clone();
        let copy = row.clone();
        let (old, _) = screen(&engine, &mut scratch, row, n);
        let (new, _) = screen(&calibrated, &mut scratch, copy, n);
        for (tally, verdict) in [(&mut before, &old), (&mut after, &new)] {
            let named = verdict.brands.first().map(|b| b.brand_id.as_str());
            if counterfeit {
                tally.1 += 1;
                tally.0 += usize::from(flagged(verdict) && named == Some(&brand_id));
            } else {
                tally.3 += 1;
                tally.2 += usize::from(flagged(verdict));
            }
        }
        if flagged(&old) && Observation::of(&old, counterfeit, |_| 0.5).is_some() {
            let log_loss = |r: f64| {
                -(if counterfeit { r } else { 1.0 - r })
                    .clamp(1e-9, 1.0)
                    .ln()
            };
            loss.0 += log_loss(old.risk_score);
            loss.1 += log_loss(new.risk_score);
            loss.2 += 1;
        }
    }
    let share = |(right, total): (usize, usize)| 100.0 * right as f64 / total as f64;
    println!(
        "held out: caught {:.1}% -> {:.1}%, legitimate flagged {:.3}% -> {:.3}%, log loss of the old hits {:.4} -> {:.4}",
        share((before.0, before.1)),
        share((after.0, after.1)),
        share((before.2, before.3)),
        share((after.2, after.3)),
        loss.0 / loss.2 as f64,
        loss.1 / loss.2 as f64,
    );
    assert!(report.log_loss_after < report.log_loss_before);
    assert!(
        loss.1 < loss.0,
        "calibration must predict unseen hits better"
    );
}
