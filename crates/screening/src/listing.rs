//! Checking a listing sent by a caller, and turning it into what the engine reads.

use assay_common::money::Money;
use assay_common::{FieldViolations, validate};
use assay_proto::screening::v1::{Listing, listing_image::Source};

use crate::engine::image::dhash;
use crate::engine::{ListingInput, SellerInput, SellerRecord};

pub const MAX_TITLE: usize = 500;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_IMAGES: usize = 10;

/// A listing whose every field was checked.
#[derive(Debug, Clone)]
pub struct CheckedListing {
    /// The listing as received, image contents replaced by their hashes.
    pub listing: Listing,
    pub price: Money,
    pub image_hashes: Vec<u64>,
    pub seller: Option<SellerInput>,
}

impl CheckedListing {
    pub fn input(&self) -> ListingInput<'_> {
        self.input_with(None)
    }

    /// The listing with what case management knows of its seller.
    pub fn input_with<'a>(&'a self, record: Option<SellerRecord<'a>>) -> ListingInput<'a> {
        ListingInput {
            seller_id: &self.listing.seller_id,
            title: &self.listing.title,
            description: &self.listing.description,
            category: &self.listing.category,
            price: Some(self.price),
            image_hashes: &self.image_hashes,
            seller: self.seller,
            record,
        }
    }
}

/// Checks every field of `listing`, naming bad ones under `prefix`.
pub fn check(listing: Listing, prefix: &str) -> Result<CheckedListing, FieldViolations> {
    let mut violations = FieldViolations::new();
    let field = |name: &str| format!("{prefix}.{name}");
    violations.check(
        &field("listing_id"),
        validate::external_id(&listing.listing_id),
    );
    violations.check(
        &field("seller_id"),
        validate::external_id(&listing.seller_id),
    );
    let title = violations.check(
        &field("title"),
        validate::listing_text(&listing.title, MAX_TITLE),
    );
    let description = violations.check(
        &field("description"),
        validate::optional_listing_text(&listing.description, MAX_DESCRIPTION),
    );
    if !listing.category.is_empty() {
        violations.check(&field("category"), validate::slug(&listing.category));
    }
    let price = match &listing.price {
        Some(price) => violations.check(&field("price"), Money::positive_from_proto(price)),
        None => {
            violations.add(field("price"), "must be set");
            None
        }
    };
    if !listing.ship_from_country.is_empty() {
        violations.check(
            &field("ship_from_country"),
            validate::country_code(&listing.ship_from_country),
        );
    }
    let images = validate::bounded(
        &mut violations,
        &field("images"),
        &listing.images,
        0,
        MAX_IMAGES,
    );
    let mut image_hashes = Vec::with_capacity(images.len());
    for (i, image) in images.iter().enumerate() {
        let at = format!("{prefix}.images[{i}]");
        match &image.source {
            Some(Source::PerceptualHash(hash)) => image_hashes.push(*hash),
            Some(Source::Content(bytes)) => match dhash(bytes) {
                Ok(hash) => image_hashes.push(hash),
                Err(e) => violations.add(format!("{at}.content"), e),
            },
            None => violations.add(at, "needs a perceptual_hash or content"),
        }
    }
    let seller = listing.seller.as_ref().map(|facts| {
        if !(0..=36_500).contains(&facts.account_age_days) {
            violations.add(
                field("seller.account_age_days"),
                "must be between 0 and 36500",
            );
        }
        if let Some(rating) = facts.rating
            && !(0.0..=5.0).contains(&rating)
        {
            violations.add(field("seller.rating"), "must be between 0 and 5");
        }
        if !(0..=10_000).contains(&facts.prior_strikes) {
            violations.add(field("seller.prior_strikes"), "must be between 0 and 10000");
        }
        SellerInput {
            account_age_days: facts.account_age_days,
            rating: facts.rating,
            prior_strikes: facts.prior_strikes,
        }
    });
    let (Some(title), Some(description), Some(price)) = (title, description, price) else {
        return Err(violations);
    };
    if !violations.is_empty() {
        return Err(violations);
    }
    let mut listing = listing;
    listing.title = title;
    listing.description = description;
    // Keep hashes, not image bytes: they are what was screened, and they are small.
    listing.images = image_hashes
        .iter()
        .map(|hash| assay_proto::screening::v1::ListingImage {
            source: Some(Source::PerceptualHash(*hash)),
        })
        .collect();
    Ok(CheckedListing {
        listing,
        price,
        image_hashes,
        seller,
    })
}

#[cfg(test)]
mod tests {
    use assay_proto::common::v1::Money as PbMoney;
    use assay_proto::screening::v1::{ListingImage, SellerFacts};

    use super::*;

    fn good() -> Listing {
        Listing {
            listing_id: "lst-1".into(),
            seller_id: "seller-1".into(),
            title: "Leather tote".into(),
            description: "Roomy.\nTwo handles.".into(),
            category: "handbags".into(),
            price: Some(PbMoney {
                currency_code: "EUR".into(),
                units: 120,
                nanos: 0,
            }),
            images: vec![ListingImage {
                source: Some(Source::PerceptualHash(42)),
            }],
            ship_from_country: "IT".into(),
            seller: Some(SellerFacts {
                account_age_days: 400,
                rating: Some(4.5),
                prior_strikes: 0,
            }),
        }
    }

    fn fields(listing: Listing) -> Vec<String> {
        match check(listing, "listing") {
            Ok(_) => Vec::new(),
            Err(v) => v.iter().map(|(f, _)| f.to_owned()).collect(),
        }
    }

    #[test]
    fn a_good_listing_passes() {
        let checked = check(good(), "listing").unwrap();
        assert_eq!(checked.image_hashes, [42]);
        assert_eq!(checked.input().title, "Leather tote");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = good();
        bad.listing_id = String::new();
        bad.seller_id = "has space".into();
        bad.title = "  ".into();
        bad.description = "x".repeat(MAX_DESCRIPTION + 1);
        bad.category = "Hand Bags".into();
        bad.price.as_mut().unwrap().units = -5;
        bad.ship_from_country = "XX".into();
        bad.images = vec![
            ListingImage { source: None },
            ListingImage {
                source: Some(Source::Content(b"not an image".to_vec())),
            },
        ];
        bad.seller = Some(SellerFacts {
            account_age_days: -1,
            rating: Some(7.0),
            prior_strikes: -2,
        });
        assert_eq!(
            fields(bad),
            [
                "listing.listing_id",
                "listing.seller_id",
                "listing.title",
                "listing.description",
                "listing.category",
                "listing.price",
                "listing.ship_from_country",
                "listing.images[0]",
                "listing.images[1].content",
                "listing.seller.account_age_days",
                "listing.seller.rating",
                "listing.seller.prior_strikes",
            ]
        );
        let mut unknown_currency = good();
        unknown_currency.price.as_mut().unwrap().currency_code = "ABC".into();
        assert_eq!(fields(unknown_currency), ["listing.price"]);
        let mut no_price = good();
        no_price.price = None;
        assert_eq!(fields(no_price), ["listing.price"]);
        let mut long_title = good();
        long_title.title = "t".repeat(MAX_TITLE + 1);
        assert_eq!(fields(long_title), ["listing.title"]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Any listing a seller can send is checked without panicking: accepted, or refused
        /// with named fields, and images of arbitrary bytes only ever refused.
        #[test]
        fn any_listing_is_checked_without_panicking(
            id in "\\PC{0,80}",
            title in "\\PC{0,300}",
            category in "\\PC{0,40}",
            currency in "[A-Z]{0,4}",
            units in proptest::prelude::any::<i64>(),
            nanos in proptest::prelude::any::<i32>(),
            image in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            country in "\\PC{0,3}",
        ) {
            let listing = Listing {
                listing_id: id,
                title,
                category,
                price: Some(PbMoney { currency_code: currency, units, nanos }),
                images: vec![ListingImage {
                    source: Some(Source::Content(image)),
                }],
                ship_from_country: country,
                ..good()
            };
            match check(listing, "listing") {
                Ok(_) => {}
                Err(violations) => proptest::prop_assert!(!violations.is_empty()),
            }
        }
    }
}
