//! Brands: validation.

use assay_common::money::Money;
use assay_common::{FieldViolations, validate};
use assay_proto::registry::v1::Brand;
use serde::{Deserialize, Serialize};

pub const MAX_ALIASES: usize = 50;
pub const MAX_CATEGORIES: usize = 50;
pub const MAX_REFERENCE_PRICES: usize = 200;
pub const MAX_AUTHORIZED_SELLERS: usize = 10_000;
pub const MAX_LOGO_HASHES: usize = 100;

/// A reference price as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferencePrice {
    pub category: String,
    pub price: Money,
}

/// A brand's details as checked and cleaned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BrandSpec {
    pub name: String,
    pub aliases: Vec<String>,
    pub categories: Vec<String>,
    pub reference_prices: Vec<ReferencePrice>,
    pub authorized_seller_ids: Vec<String>,
    pub logo_hashes: Vec<u64>,
}

/// Checks every field of `brand` but its ids, naming bad ones under `prefix`.
pub fn validate(
    brand: &Brand,
    prefix: &str,
    violations: &mut FieldViolations,
) -> Option<BrandSpec> {
    let field = |name: &str| format!("{prefix}.{name}");
    let name = violations.check(&field("name"), validate::text(&brand.name, 100));

    // Entries are looked at only when there are not too many of them.
    let mut within = |name: &str, len: usize, max: usize| {
        if len > max {
            violations.add(
                field(name),
                format!("must have at most {max} entries, got {len}"),
            );
        }
        len <= max
    };
    let aliases_fit = within("aliases", brand.aliases.len(), MAX_ALIASES);
    let prices_fit = within(
        "reference_prices",
        brand.reference_prices.len(),
        MAX_REFERENCE_PRICES,
    );

    // Aliases are matched without regard to case, so they must differ without it too.
    let mut folded: std::collections::HashSet<String> =
        name.iter().map(|n| n.to_lowercase()).collect();
    let mut aliases = Vec::with_capacity(brand.aliases.len());
    let to_check = if aliases_fit { &brand.aliases[..] } else { &[] };
    for (i, alias) in to_check.iter().enumerate() {
        match validate::text(alias, 100) {
            Ok(alias) if !folded.insert(alias.to_lowercase()) => violations.add(
                format!("{prefix}.aliases[{i}]"),
                "repeats the brand name or another alias",
            ),
            Ok(alias) => aliases.push(alias),
            Err(e) => violations.add(format!("{prefix}.aliases[{i}]"), e),
        }
    }
    let categories = validate::each(
        violations,
        &field("categories"),
        &brand.categories,
        0..=MAX_CATEGORIES,
        |c| validate::slug(c),
    );
    let mut reference_prices: Vec<ReferencePrice> = Vec::new();
    let to_check = if prices_fit {
        &brand.reference_prices[..]
    } else {
        &[]
    };
    for (i, reference) in to_check.iter().enumerate() {
        let at = |name: &str| format!("{prefix}.reference_prices[{i}].{name}");
        let category = match validate::slug(&reference.category) {
            Ok(category) if categories.contains(&category) => Some(category),
            Ok(category) => {
                violations.add(
                    at("category"),
                    format!("{category:?} is not one of the brand's categories"),
                );
                None
            }
            Err(e) => {
                violations.add(at("category"), e);
                None
            }
        };
        let price = match &reference.price {
            Some(price) => violations.check(&at("price"), Money::positive_from_proto(price)),
            None => {
                violations.add(at("price"), "must be set");
                None
            }
        };
        if let (Some(category), Some(price)) = (category, price) {
            if reference_prices
                .iter()
                .any(|r| r.category == category && r.price.currency == price.currency)
            {
                violations.add(
                    format!("{prefix}.reference_prices[{i}]"),
                    "repeats a category and currency",
                );
            } else {
                reference_prices.push(ReferencePrice { category, price });
            }
        }
    }
    let authorized_seller_ids = validate::each(
        violations,
        &field("authorized_seller_ids"),
        &brand.authorized_seller_ids,
        0..=MAX_AUTHORIZED_SELLERS,
        |id| validate::external_id(id),
    );
    let logo_hashes = validate::each(
        violations,
        &field("logo_hashes"),
        &brand.logo_hashes,
        0..=MAX_LOGO_HASHES,
        |h| {
            if *h == 0 || *h == u64::MAX {
                Err(
                    "a blank image's hash (all zeros or all ones) would match anything blank"
                        .to_owned(),
                )
            } else {
                Ok(*h)
            }
        },
    );
    Some(BrandSpec {
        name: name?,
        aliases,
        categories,
        reference_prices,
        authorized_seller_ids,
        logo_hashes,
    })
}

#[cfg(test)]
mod tests {
    use assay_proto::common::v1::Money as PbMoney;
    use assay_proto::registry::v1::ReferencePrice as PbReferencePrice;

    use super::*;

    fn brand() -> Brand {
        Brand {
            name: "Louis Vuitton".into(),
            aliases: vec!["LV".into(), "路易威登".into()],
            categories: vec!["handbags".into(), "wallets".into()],
            reference_prices: vec![PbReferencePrice {
                category: "handbags".into(),
                price: Some(PbMoney {
                    currency_code: "EUR".into(),
                    units: 1500,
                    nanos: 0,
                }),
            }],
            authorized_seller_ids: vec!["lv-official".into()],
            logo_hashes: vec![0x8f3c_1e0f_0f1e_3c8f],
            ..Brand::default()
        }
    }

    fn fields(brand: &Brand) -> Vec<String> {
        let mut violations = FieldViolations::new();
        validate(brand, "brand", &mut violations);
        violations.iter().map(|(f, _)| f.to_owned()).collect()
    }

    #[test]
    fn a_good_brand_passes() {
        assert!(fields(&brand()).is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = brand();
        bad.name = String::new();
        bad.aliases.push("lv".into());
        bad.categories.push("Bad Category".into());
        bad.reference_prices.push(PbReferencePrice {
            category: "shoes".into(),
            price: Some(PbMoney {
                currency_code: "EUR".into(),
                units: -1,
                nanos: 0,
            }),
        });
        bad.authorized_seller_ids.push("has space".into());
        bad.logo_hashes.push(0);
        assert_eq!(
            fields(&bad),
            [
                "brand.name",
                "brand.aliases[2]",
                "brand.categories[2]",
                "brand.reference_prices[1].category",
                "brand.reference_prices[1].price",
                "brand.authorized_seller_ids[1]",
                "brand.logo_hashes[1]",
            ]
        );
    }

    #[test]
    fn aliases_may_not_repeat_the_name_and_prices_not_their_category() {
        let mut bad = brand();
        bad.aliases.push("louis vuitton".into());
        bad.reference_prices.push(bad.reference_prices[0].clone());
        assert_eq!(
            fields(&bad),
            ["brand.aliases[2]", "brand.reference_prices[1]"]
        );
    }

    #[test]
    fn sizes_are_bounded() {
        let mut big = brand();
        big.aliases = (0..=MAX_ALIASES).map(|i| format!("alias {i}")).collect();
        assert_eq!(fields(&big), ["brand.aliases"]);
        let mut long = brand();
        long.name = "x".repeat(101);
        assert_eq!(fields(&long), ["brand.name"]);
    }
}
