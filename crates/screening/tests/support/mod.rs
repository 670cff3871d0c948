//! What the quality tests share: the catalogue of `testdata/brands.json`, compiled into an
//! engine as screening compiles it, with its configured exchange rates.

use assay_common::money::CurrencyCode;
use assay_proto::common::v1::Money;
use assay_proto::registry::v1::{CatalogueBrand, ReferencePrice};
use assay_screening::calibration::Shifts;
use assay_screening::engine::{Engine, EngineInput, ExchangeRates, Thresholds};
use serde::Deserialize;

#[derive(Clone, Deserialize)]
pub struct MoneyJson {
    currency_code: String,
    units: i64,
    nanos: i32,
}

impl From<MoneyJson> for Money {
    fn from(m: MoneyJson) -> Money {
        Money {
            currency_code: m.currency_code,
            units: m.units,
            nanos: m.nanos,
        }
    }
}

#[derive(Deserialize)]
struct PriceJson {
    category: String,
    price: MoneyJson,
}

#[derive(Deserialize)]
struct BrandJson {
    brand_id: String,
    member_id: String,
    name: String,
    aliases: Vec<String>,
    categories: Vec<String>,
    reference_prices: Vec<PriceJson>,
    authorized_seller_ids: Vec<String>,
    logo_hashes: Vec<u64>,
}

pub fn catalogue() -> Vec<CatalogueBrand> {
    let brands: Vec<BrandJson> =
        serde_json::from_str(include_str!("../../testdata/brands.json")).expect("brands.json");
    brands
        .into_iter()
        .map(|b| CatalogueBrand {
            brand_id: b.brand_id,
            member_id: b.member_id,
            name: b.name,
            aliases: b.aliases,
            categories: b.categories,
            reference_prices: b
                .reference_prices
                .into_iter()
                .map(|r| ReferencePrice {
                    category: r.category,
                    price: Some(r.price.into()),
                })
                .collect(),
            authorized_seller_ids: b.authorized_seller_ids,
            logo_hashes: b.logo_hashes,
            agent_member_ids: vec![],
            right_kinds: vec![1],
            revision: 1,
        })
        .collect()
}

/// The engine of the catalogue, with default thresholds and no rules.
pub fn engine() -> Engine {
    calibrated_engine(Shifts::default())
}

/// The engine of the catalogue, with default thresholds, no rules and `calibration`.
pub fn calibrated_engine(calibration: Shifts) -> Engine {
    let config = assay_screening::Config::default();
    let rates = ExchangeRates::new(
        config
            .exchange_rates
            .iter()
            .map(|(c, r)| (CurrencyCode::parse(c).unwrap(), *r)),
    );
    Engine::compile(EngineInput {
        catalogue_revision: 1,
        rule_version: 1,
        brands: catalogue(),
        rules: Vec::new(),
        thresholds: Thresholds::default(),
        rates,
        calibration,
    })
    .unwrap()
}
