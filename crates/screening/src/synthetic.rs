//! Deterministic synthetic catalogues and listings, for benchmarks and load runs.
//!
//! Brand names are invented from syllables (and checked not to be ordinary words); listing
//! titles and descriptions are built from product words, with a share of brand mentions —
//! some obfuscated — counterfeit vocabulary, and images.

use assay_proto::common::v1::Money;
use assay_proto::registry::v1::{CatalogueBrand, ReferencePrice};
use assay_proto::screening::v1::{Listing, ListingImage, SellerFacts, listing_image::Source};

use crate::engine::lexicon::lexicon;
use crate::engine::normalize::normalize_term;

/// xorshift64*: small, fast, and the same sequence everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "vi", "zen", "tor", "mi", "ra", "vo", "quin", "del", "sa", "ber", "no", "xa", "lu",
    "fen", "gor", "tam", "shi", "vel", "ro", "dan", "cle", "mar", "zo", "pri", "ul", "ves", "ny",
    "ko", "tra", "bel",
];

const CJK: &[char] = &[
    '路', '易', '威', '登', '古', '驰', '耐', '克', '香', '奈', '儿', '普', '拉', '达', '爱', '马',
    '仕', '迪', '奥', '巴', '黎', '世', '家', '卡', '地', '亚', '劳', '力', '士', '欧', '米', '茄',
];

pub const CATEGORIES: &[&str] = &[
    "handbags",
    "wallets",
    "footwear",
    "apparel",
    "watches",
    "jewelry",
    "perfume",
    "sunglasses",
    "belts",
    "phones",
    "laptops",
    "headphones",
    "toys",
    "kitchen",
    "cosmetics",
    "hats",
    "scarves",
    "luggage",
    "sportswear",
    "eyewear",
    "electronics",
    "home",
    "books",
    "tools",
    "garden",
    "pet-supplies",
];

const PRODUCT_WORDS: &[&str] = &[
    "leather",
    "bag",
    "women",
    "men",
    "running",
    "shoes",
    "vintage",
    "classic",
    "new",
    "black",
    "white",
    "brown",
    "large",
    "small",
    "tote",
    "shoulder",
    "crossbody",
    "wallet",
    "watch",
    "steel",
    "gold",
    "silver",
    "cotton",
    "hoodie",
    "jacket",
    "sneakers",
    "boots",
    "summer",
    "winter",
    "sport",
    "casual",
    "premium",
    "gift",
    "box",
    "with",
    "and",
    "the",
    "for",
    "size",
    "edition",
    "limited",
    "original",
    "design",
    "strap",
    "canvas",
    "print",
    "logo",
    "collection",
    "style",
    "fashion",
    "quality",
    "soft",
    "waterproof",
    "travel",
    "kids",
    "home",
    "kitchen",
    "wireless",
    "charger",
    "cable",
    "case",
    "cover",
];

const COUNTERFEIT: &[&str] = &[
    "replica",
    "1:1",
    "AAA",
    "mirror quality",
    "dupe",
    "高仿",
    "复刻",
    "原单",
];

fn invent_name(rng: &mut Rng) -> String {
    let syllables = 2 + rng.below(3);
    (0..syllables).map(|_| *rng.pick(SYLLABLES)).collect()
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A catalogue of `count` protected brands with distinct invented names.
pub fn catalogue(count: usize, seed: u64) -> Vec<CatalogueBrand> {
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::HashSet::new();
    let mut brands = Vec::with_capacity(count);
    while brands.len() < count {
        let mut name = capitalise(&invent_name(&mut rng));
        if rng.chance(20) {
            name = format!("{name} {}", capitalise(&invent_name(&mut rng)));
        }
        let normalized = normalize_term(&name);
        if lexicon().contains(normalized.as_bytes()) || !seen.insert(normalized) {
            continue;
        }
        let index = brands.len();
        let mut aliases = Vec::new();
        if rng.chance(30) {
            let initials: String = name
                .split(' ')
                .filter_map(|w| w.chars().next())
                .chain([
                    char::from(b'A' + (index % 26) as u8),
                    char::from(b'A' + (index / 26 % 26) as u8),
                ])
                .collect();
            aliases.push(initials);
        }
        if rng.chance(40) {
            let length = 2 + rng.below(3);
            aliases.push((0..length).map(|_| *rng.pick(CJK)).collect());
        }
        let categories: Vec<String> = (0..1 + rng.below(3))
            .map(|_| (*rng.pick(CATEGORIES)).to_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let currency = *rng.pick(&["EUR", "USD", "CNY"]);
        let reference_prices = categories
            .iter()
            .map(|category| ReferencePrice {
                category: category.clone(),
                price: Some(Money {
                    currency_code: currency.to_owned(),
                    units: 50 + rng.below(3000) as i64,
                    nanos: 0,
                }),
            })
            .collect();
        brands.push(CatalogueBrand {
            brand_id: format!("brd_{index:032x}"),
            member_id: format!("mbr_{:032x}", index / 5),
            name,
            aliases,
            categories,
            reference_prices,
            authorized_seller_ids: (0..rng.below(3))
                .map(|i| format!("official-{index}-{i}"))
                .collect(),
            logo_hashes: (0..1 + rng.below(2)).map(|_| rng.next_u64() | 1).collect(),
            agent_member_ids: Vec::new(),
            right_kinds: vec![1],
            revision: 1,
        });
    }
    brands
}

/// Writes a brand term the way a counterfeiter might.
fn obfuscate(rng: &mut Rng, term: &str) -> String {
    match rng.below(4) {
        0 => term
            .chars()
            .map(|c| match c {
                'a' => '4',
                'e' => '3',
                'i' => '1',
                'o' => '0',
                other => other,
            })
            .collect(),
        1 => term
            .chars()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("."),
        2 => term
            .chars()
            .map(|c| match c {
                'a' => 'а',
                'o' => 'о',
                'e' => 'е',
                other => other,
            })
            .collect(),
        _ => {
            let mut chars: Vec<char> = term.chars().collect();
            if chars.len() > 3 {
                let i = 1 + rng.below(chars.len() - 2);
                chars.swap(i, i + 1);
            }
            chars.into_iter().collect()
        }
    }
}

fn words(rng: &mut Rng, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| (*rng.pick(PRODUCT_WORDS)).to_owned())
        .collect()
}

/// `count` listings about `brands`: about a third mention a brand (a tenth of those
/// obfuscated), one in twenty uses counterfeit vocabulary, some carry logo-like images.
pub fn listings(brands: &[CatalogueBrand], count: usize, seed: u64) -> Vec<Listing> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let title_words = 5 + rng.below(6);
            let mut title = words(&mut rng, title_words);
            let description_words = 20 + rng.below(40);
            let mut description = words(&mut rng, description_words);
            let mut images = Vec::new();
            let brand = (!brands.is_empty() && rng.chance(33)).then(|| rng.pick(brands));
            if let Some(brand) = brand {
                let mut term = brand.name.clone();
                if !brand.aliases.is_empty() && rng.chance(20) {
                    term = rng.pick(&brand.aliases).clone();
                }
                if rng.chance(10) {
                    term = obfuscate(&mut rng, &term);
                }
                let at = rng.below(title.len());
                title.insert(at, term);
                if rng.chance(30) {
                    let at = rng.below(description.len());
                    description.insert(at, brand.name.clone());
                }
                if rng.chance(10)
                    && let Some(logo) = brand.logo_hashes.first()
                {
                    images.push(ListingImage {
                        source: Some(Source::PerceptualHash(logo ^ (1 << rng.below(64)))),
                    });
                }
            }
            if rng.chance(5) {
                title.push((*rng.pick(COUNTERFEIT)).to_owned());
            }
            if rng.chance(20) {
                images.push(ListingImage {
                    source: Some(Source::PerceptualHash(rng.next_u64())),
                });
            }
            let category = brand
                .and_then(|b| b.categories.first().cloned())
                .unwrap_or_else(|| (*rng.pick(CATEGORIES)).to_owned());
            Listing {
                listing_id: format!("lst-{i}"),
                seller_id: format!("seller-{}", rng.below(5000)),
                title: title.join(" "),
                description: description.join(" "),
                category,
                price: Some(Money {
                    currency_code: "USD".to_owned(),
                    units: 5 + rng.below(2000) as i64,
                    nanos: 0,
                }),
                images,
                ship_from_country: (*rng.pick(&["CN", "US", "DE", "FR", "IT", "VN"])).to_owned(),
                seller: Some(SellerFacts {
                    account_age_days: rng.below(2000) as i32,
                    rating: rng
                        .chance(80)
                        .then(|| 1.0 + (rng.below(400) as f64) / 100.0),
                    prior_strikes: if rng.chance(5) { 1 } else { 0 },
                }),
            }
        })
        .collect()
}
