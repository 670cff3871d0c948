//! Calibration: the weights of the evidence fitted to what analysts found.
//!
//! The engine's weights are judgement: a brand name in the title adds 0.40, a price far
//! below the reference 0.35. Analysts' feedback on hits says how far that judgement holds
//! — for each kind of evidence, and for brands with enough feedback of their own (a name
//! that is also a common word gathers false positives; a brand that is copied a lot,
//! confirmed counterfeits). A calibration shifts each contribution in log-odds,
//! `c' = σ(logit(c) + shift_kind + shift_brand)`, with shifts fitted by maximum likelihood
//! under a Gaussian prior that holds them at 0 until the feedback says otherwise.
//!
//! Every calibration is a version; screening uses one at a time (or none), and any other can
//! be put back. Verdicts carry each signal's contribution before calibration, so a fit
//! always starts from the engine's own weights, whatever was in use when a hit was screened.
//!
//! What is fitted is what analysts see: hits, listings the engine flagged. Listings it
//! allowed get no feedback, so a calibration sharpens precision among flagged listings; it
//! cannot find what the engine never flagged.

use assay_proto::screening::v1::{Signal, SignalKind, Verdict};
use rustc_hash::FxHashMap;

use crate::engine::VOCABULARY_ONLY;

/// Hits with feedback a fit learns from, at most (the latest).
pub const MAX_HITS: u64 = 100_000;
/// Hits with feedback a kind of evidence needs before its weight moves.
pub const MIN_KIND_HITS: i64 = 20;
/// Hits with feedback a brand needs before the weight of its evidence moves.
pub const MIN_BRAND_HITS: i64 = 30;
/// The largest shift, in log-odds, either way (a factor of about 55 in the odds).
const MAX_SHIFT: f64 = 4.0;
/// Precision of the prior on each shift: a standard normal.
const PRIOR: f64 = 1.0;
/// Rounds of Fisher scoring, at most.
const ROUNDS: usize = 200;
/// Bands of risk in reports.
const BANDS: usize = 10;
/// Signal kinds, by their number (`SignalKind` as `i32`).
const KINDS: usize = 7;
const EPSILON: f64 = 1e-9;

fn logit(p: f64) -> f64 {
    let p = p.clamp(EPSILON, 1.0 - EPSILON);
    (p / (1.0 - p)).ln()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `1 - Π(1 - c)`: how the engine combines contributions.
fn noisy_or(contributions: impl IntoIterator<Item = f64>) -> f64 {
    1.0 - contributions
        .into_iter()
        .fold(1.0, |keep, c| keep * (1.0 - c.clamp(0.0, 1.0)))
}

/// `contribution` moved by `shift` in log-odds; exactly itself for no shift.
pub fn shifted(contribution: f64, shift: f64) -> f64 {
    if shift == 0.0 || contribution <= 0.0 {
        contribution
    } else {
        sigmoid(logit(contribution) + shift)
    }
}

/// The shifts a calibration version applies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shifts {
    /// 0: no calibration.
    pub version: i64,
    kinds: [f64; KINDS],
    brands: FxHashMap<String, f64>,
}

impl Shifts {
    pub fn new(
        version: i64,
        kinds: impl IntoIterator<Item = (i32, f64)>,
        brands: impl IntoIterator<Item = (String, f64)>,
    ) -> Self {
        let mut shifts = Self {
            version,
            ..Self::default()
        };
        for (kind, shift) in kinds {
            if let Some(slot) = usize::try_from(kind)
                .ok()
                .and_then(|k| shifts.kinds.get_mut(k))
            {
                *slot = shift;
            }
        }
        shifts.brands = brands.into_iter().filter(|(_, s)| *s != 0.0).collect();
        shifts
    }

    pub fn kind(&self, kind: i32) -> f64 {
        usize::try_from(kind)
            .ok()
            .and_then(|k| self.kinds.get(k))
            .copied()
            .unwrap_or(0.0)
    }

    pub fn brand(&self, brand_id: &str) -> f64 {
        self.brands.get(brand_id).copied().unwrap_or(0.0)
    }

    /// Sets `signal`'s base contribution to what it is now and applies the shifts of its
    /// kind and brand.
    pub fn apply(&self, signal: &mut Signal) {
        signal.base_contribution = signal.contribution;
        let brand = if signal.brand_id.is_empty() || self.brands.is_empty() {
            0.0
        } else {
            self.brand(&signal.brand_id)
        };
        signal.contribution = shifted(signal.contribution, self.kind(signal.kind) + brand);
    }
}

/// One piece of evidence of a hit, as a fit sees it.
#[derive(Debug, Clone, Copy)]
struct Evidence {
    /// The contribution before calibration, in log-odds.
    base: f64,
    kind: usize,
    /// The brand's index among the fit's brands; `None` for evidence about the listing.
    brand: Option<u32>,
}

/// A hit with feedback: its uncapped evidence and what analysts found.
#[derive(Debug, Clone)]
pub struct Observation {
    confirmed: bool,
    /// The brand the hit was mostly about; `None` for counterfeit vocabulary alone.
    brand: Option<String>,
    evidence: Vec<(f64, i32, bool)>,
    /// 1 for a brand's risk; the engine's scale for vocabulary alone.
    scale: f64,
    /// The review threshold of the hit's brand (or the global one).
    review: f64,
}

impl Observation {
    /// What the fit can learn from a hit: the evidence about its riskiest brand and about
    /// the listing. `None` when the risk was held down by a cap (a weak name without
    /// support), which no weight would have moved.
    pub fn of(
        verdict: &Verdict,
        confirmed: bool,
        review: impl Fn(Option<&str>) -> f64,
    ) -> Option<Self> {
        let base = |s: &Signal| {
            if s.base_contribution > 0.0 {
                s.base_contribution
            } else {
                s.contribution
            }
        };
        let top = verdict.brands.first();
        let signals: Vec<&Signal> = verdict
            .signals
            .iter()
            .filter(|s| s.brand_id.is_empty() || top.is_some_and(|t| t.brand_id == s.brand_id))
            .collect();
        let (risk, scale, cap) = match top {
            Some(top) => (top.risk_score, 1.0, 1.0),
            None => (verdict.risk_score, VOCABULARY_ONLY.0, VOCABULARY_ONLY.1),
        };
        let combined = scale * noisy_or(signals.iter().map(|s| s.contribution));
        if signals.is_empty() || risk + 1e-6 < combined.min(cap) || combined >= cap {
            return None;
        }
        Some(Self {
            confirmed,
            brand: top.map(|t| t.brand_id.clone()),
            evidence: signals
                .iter()
                .map(|s| (base(s), s.kind, !s.brand_id.is_empty()))
                .collect(),
            scale,
            review: review(top.map(|t| t.brand_id.as_str())),
        })
    }
}

/// A fitted shift with the feedback behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight<S> {
    pub subject: S,
    pub shift: f64,
    pub previous_shift: f64,
    pub confirmed: i64,
    pub false_positives: i64,
}

/// Risk against confirmed share in one band.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bin {
    pub risk_from: f64,
    pub risk_to: f64,
    pub hits: i64,
    pub mean_risk: f64,
    pub confirmed_share: f64,
}

/// What a fit changes, measured on the hits it learned from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub previous_version: i64,
    pub log_loss_before: f64,
    pub log_loss_after: f64,
    pub bins_before: Vec<Bin>,
    pub bins_after: Vec<Bin>,
    pub confirmed_no_longer_flagged: i64,
    pub false_positives_no_longer_flagged: i64,
}

/// A fitted calibration, not yet a version.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub hits_used: i64,
    /// Every signal kind, in number order.
    pub kinds: Vec<Weight<SignalKind>>,
    /// Brands with enough feedback, and brands the previous calibration moved; most
    /// feedback first.
    pub brands: Vec<Weight<String>>,
    pub report: Report,
}

impl Fit {
    pub fn shifts(&self, version: i64) -> Shifts {
        Shifts::new(
            version,
            self.kinds.iter().map(|w| (w.subject as i32, w.shift)),
            self.brands.iter().map(|w| (w.subject.clone(), w.shift)),
        )
    }
}

/// The hits in a form the optimiser walks quickly: each piece of evidence with the indices
/// of the parameters that move it.
struct Problem {
    /// (confirmed, scale, range in `evidence`)
    hits: Vec<(bool, f64, std::ops::Range<usize>)>,
    evidence: Vec<Evidence>,
    brands: Vec<String>,
}

impl Problem {
    fn parameters(&self) -> usize {
        KINDS + self.brands.len()
    }

    /// Risk of hit `at` under `shifts` (indexed as the parameters), and the derivative of
    /// the risk by each parameter it depends on, through `gradient`.
    fn risk(&self, at: usize, shifts: &[f64], mut gradient: impl FnMut(usize, f64)) -> f64 {
        const HELD: usize = 16;
        let (_, scale, ref range) = self.hits[at];
        let evidence = &self.evidence[range.clone()];
        let contribution = |e: &Evidence| {
            sigmoid(e.base + shifts[e.kind] + e.brand.map_or(0.0, |b| shifts[KINDS + b as usize]))
        };
        // Contributions are worked out once; a hit with more evidence than is held works
        // the rest out twice.
        let mut held = [0.0f64; HELD];
        let mut keep = 1.0;
        for (i, e) in evidence.iter().enumerate() {
            let c = contribution(e);
            if i < HELD {
                held[i] = c;
            }
            keep *= 1.0 - c;
        }
        // d(1 - Π(1 - c_j)) / d(shift of c_i) = Π_{j≠i}(1 - c_j) · c_i(1 - c_i) = keep · c_i
        for (i, e) in evidence.iter().enumerate() {
            let c = if i < HELD { held[i] } else { contribution(e) };
            let d = scale * keep * c;
            gradient(e.kind, d);
            if let Some(b) = e.brand {
                gradient(KINDS + b as usize, d);
            }
        }
        (scale * (1.0 - keep)).clamp(EPSILON, 1.0 - EPSILON)
    }
}

/// Fits shifts to `observations`; `previous` is the calibration in use, for the report.
pub fn fit(observations: &[Observation], previous: &Shifts) -> Fit {
    let mut brand_index: FxHashMap<&str, u32> = FxHashMap::default();
    let mut brand_counts: Vec<(i64, i64)> = Vec::new();
    let mut kind_counts = [(0i64, 0i64); KINDS];
    for o in observations {
        let tally = |counts: &mut (i64, i64)| {
            if o.confirmed {
                counts.0 += 1
            } else {
                counts.1 += 1
            }
        };
        if let Some(brand) = &o.brand {
            let next = brand_index.len() as u32;
            let at = *brand_index.entry(brand).or_insert(next);
            if at as usize == brand_counts.len() {
                brand_counts.push((0, 0));
            }
            tally(&mut brand_counts[at as usize]);
        }
        let mut seen = [false; KINDS];
        for &(_, kind, _) in &o.evidence {
            if let Some(k) = usize::try_from(kind).ok().filter(|k| *k < KINDS)
                && !std::mem::replace(&mut seen[k], true)
            {
                tally(&mut kind_counts[k]);
            }
        }
    }
    let mut brands: Vec<String> = vec![String::new(); brand_index.len()];
    for (brand, at) in &brand_index {
        brands[*at as usize] = (*brand).to_owned();
    }
    let enough = |(c, f): (i64, i64), min: i64| c + f >= min;
    let mut free = vec![false; KINDS + brands.len()];
    for (k, counts) in kind_counts.iter().enumerate() {
        free[k] = k > 0 && enough(*counts, MIN_KIND_HITS);
    }
    for (b, counts) in brand_counts.iter().enumerate() {
        free[KINDS + b] = enough(*counts, MIN_BRAND_HITS);
    }

    let mut problem = Problem {
        hits: Vec::with_capacity(observations.len()),
        evidence: Vec::new(),
        brands,
    };
    for o in observations {
        let start = problem.evidence.len();
        let brand = o.brand.as_deref().and_then(|b| brand_index.get(b)).copied();
        for &(base, kind, about_brand) in &o.evidence {
            let Some(kind) = usize::try_from(kind).ok().filter(|k| *k < KINDS) else {
                continue;
            };
            problem.evidence.push(Evidence {
                base: logit(base),
                kind,
                brand: if about_brand { brand } else { None },
            });
        }
        problem
            .hits
            .push((o.confirmed, o.scale, start..problem.evidence.len()));
    }

    let shifts = optimise(&problem, &free);
    let previous_shifts: Vec<f64> = (0..KINDS)
        .map(|k| previous.kind(k as i32))
        .chain(problem.brands.iter().map(|b| previous.brand(b)))
        .collect();
    let report = report(
        &problem,
        observations,
        &previous_shifts,
        &shifts,
        previous.version,
    );

    let kinds = (1..KINDS)
        .filter_map(|k| {
            let subject = SignalKind::try_from(k as i32).ok()?;
            Some(Weight {
                subject,
                shift: shifts[k],
                previous_shift: previous_shifts[k],
                confirmed: kind_counts[k].0,
                false_positives: kind_counts[k].1,
            })
        })
        .collect();
    let mut brand_weights: Vec<Weight<String>> = problem
        .brands
        .iter()
        .enumerate()
        .filter(|(b, _)| free[KINDS + b] || previous_shifts[KINDS + b] != 0.0)
        .map(|(b, brand)| Weight {
            subject: brand.clone(),
            shift: shifts[KINDS + b],
            previous_shift: previous_shifts[KINDS + b],
            confirmed: brand_counts[b].0,
            false_positives: brand_counts[b].1,
        })
        .collect();
    // A brand the previous calibration moved and that has no feedback now: back to 0.
    for (brand, shift) in &previous.brands {
        if !brand_index.contains_key(brand.as_str()) {
            brand_weights.push(Weight {
                subject: brand.clone(),
                shift: 0.0,
                previous_shift: *shift,
                confirmed: 0,
                false_positives: 0,
            });
        }
    }
    brand_weights.sort_by(|a, b| {
        (b.confirmed + b.false_positives)
            .cmp(&(a.confirmed + a.false_positives))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    Fit {
        hits_used: observations.len() as i64,
        kinds,
        brands: brand_weights,
        report,
    }
}

/// Maximum a posteriori shifts by Fisher scoring on the diagonal, with a line search: each
/// round moves each free parameter by its gradient over its expected information, halving
/// the step until the posterior improves (a kind's shift and a brand's move the same
/// evidence, so their full steps together would overshoot).
fn optimise(problem: &Problem, free: &[bool]) -> Vec<f64> {
    let mut shifts = vec![0.0; problem.parameters()];
    let mut gradient = vec![0.0; shifts.len()];
    let mut information = vec![0.0; shifts.len()];
    let mut direction = vec![0.0; shifts.len()];
    let mut derivatives: Vec<(usize, f64)> = Vec::with_capacity(16);
    let mut current = posterior(problem, &shifts);
    for _ in 0..ROUNDS {
        for (p, g) in gradient.iter_mut().enumerate() {
            *g = -PRIOR * shifts[p];
        }
        information.fill(PRIOR);
        for (at, &(confirmed, _, _)) in problem.hits.iter().enumerate() {
            derivatives.clear();
            let r = problem.risk(at, &shifts, |p, d| derivatives.push((p, d)));
            // d(log-likelihood)/dr, and the information of one Bernoulli trial.
            let score = if confirmed { 1.0 / r } else { -1.0 / (1.0 - r) };
            let fisher = 1.0 / (r * (1.0 - r));
            for &(p, d) in &derivatives {
                gradient[p] += score * d;
                information[p] += fisher * d * d;
            }
        }
        for p in 0..shifts.len() {
            direction[p] = if free[p] {
                (gradient[p] / information[p]).clamp(-1.0, 1.0)
            } else {
                0.0
            };
        }
        let mut step = 1.0;
        let mut moved = false;
        while step > 1e-4 {
            let candidate: Vec<f64> = shifts
                .iter()
                .zip(&direction)
                .map(|(s, d)| (s + step * d).clamp(-MAX_SHIFT, MAX_SHIFT))
                .collect();
            let value = posterior(problem, &candidate);
            if value > current {
                // Done once the mean log-likelihood of a hit gains less than a millionth.
                moved = value - current > 1e-6 * problem.hits.len().max(1) as f64;
                shifts = candidate;
                current = value;
                break;
            }
            step /= 2.0;
        }
        if !moved {
            break;
        }
    }
    shifts
}

/// The log posterior of `shifts`: the log-likelihood of the feedback and the prior.
fn posterior(problem: &Problem, shifts: &[f64]) -> f64 {
    let prior: f64 = shifts.iter().map(|s| PRIOR * s * s / 2.0).sum();
    let likelihood: f64 = problem
        .hits
        .iter()
        .enumerate()
        .map(|(at, &(confirmed, _, _))| {
            let r = problem.risk(at, shifts, |_, _| {});
            if confirmed { r.ln() } else { (1.0 - r).ln() }
        })
        .sum();
    likelihood - prior
}

fn report(
    problem: &Problem,
    observations: &[Observation],
    before: &[f64],
    after: &[f64],
    previous_version: i64,
) -> Report {
    let mut report = Report {
        previous_version,
        ..Report::default()
    };
    let mut risks_before = Vec::with_capacity(observations.len());
    let mut risks_after = Vec::with_capacity(observations.len());
    for (at, o) in observations.iter().enumerate() {
        let old = problem.risk(at, before, |_, _| {});
        let new = problem.risk(at, after, |_, _| {});
        let loss = |r: f64| -(if o.confirmed { r } else { 1.0 - r }).ln();
        report.log_loss_before += loss(old);
        report.log_loss_after += loss(new);
        if old >= o.review && new < o.review {
            if o.confirmed {
                report.confirmed_no_longer_flagged += 1;
            } else {
                report.false_positives_no_longer_flagged += 1;
            }
        }
        risks_before.push((old, o.confirmed));
        risks_after.push((new, o.confirmed));
    }
    if !observations.is_empty() {
        report.log_loss_before /= observations.len() as f64;
        report.log_loss_after /= observations.len() as f64;
    }
    report.bins_before = bins(risks_before);
    report.bins_after = bins(risks_after);
    report
}

/// Risks in ten bands of 0.1, with the confirmed share of each; bands without hits are left
/// out.
pub fn bins(risks: impl IntoIterator<Item = (f64, bool)>) -> Vec<Bin> {
    let mut sums = [(0i64, 0.0f64, 0i64); BANDS];
    for (risk, confirmed) in risks {
        let band = ((risk.clamp(0.0, 1.0) * BANDS as f64) as usize).min(BANDS - 1);
        sums[band].0 += 1;
        sums[band].1 += risk;
        sums[band].2 += i64::from(confirmed);
    }
    sums.iter()
        .enumerate()
        .filter(|(_, (hits, _, _))| *hits > 0)
        .map(|(band, &(hits, risk, confirmed))| Bin {
            risk_from: band as f64 / BANDS as f64,
            risk_to: (band + 1) as f64 / BANDS as f64,
            hits,
            mean_risk: risk / hits as f64,
            confirmed_share: confirmed as f64 / hits as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests;
