//! `assay demo`: a programme year in one command. It starts the whole system on a
//! temporary directory, plays a synthetic year through the public APIs only — the alliance
//! joins with its brands and trade marks, the marketplace's feed is screened, analysts act
//! on the alerts, rights holders file notices and buy test purchases, cases go to agencies
//! who report arrests, agencies ask for information and report what it led to — and prints
//! the programme's report for the year, as the programme would publish it.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use assay_common::auth::Principal;
use assay_common::client::{self, PeerChannel, ServiceCredentials};
use assay_common::jwt::TokenSigner;
use assay_common::language::{self, Language};
use assay_proto::cases::v1 as cases;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::common::v1::{Contact, Date, Money};
use assay_proto::lawenforcement::v1 as le;
use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::screening::v1 as screening;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};

use crate::admin::Format;
use crate::{AppConfig, ServiceName};

/// The demo's size. Every count is bounded: the made-up brand names run out past 10,000
/// brands, and a year needs at least one member, listing and agency.
#[derive(Args, Debug, Clone)]
pub struct Demo {
    /// Alliance members, 1 to 2,000.
    #[arg(long, default_value_t = 220, value_parser = between(1, 2_000))]
    pub members: usize,
    /// Brands of each member (each with a verified trade mark), 1 to 5.
    #[arg(long, default_value_t = 5, value_parser = between(1, 5))]
    pub brands_per_member: usize,
    /// Listings in the marketplace's feed (one in forty a counterfeit), 1 to 1,000,000.
    #[arg(long, default_value_t = 20_000, value_parser = between(1, 1_000_000))]
    pub listings: usize,
    /// Takedown notices filed by members, 0 to 10,000.
    #[arg(long, default_value_t = 300, value_parser = between(0, 10_000))]
    pub notices: usize,
    /// Agencies, 1 to 100; their referrals, 0 to 1,000; their requests for information,
    /// 0 to 10,000.
    #[arg(long, default_value_t = 12, value_parser = between(1, 100))]
    pub agencies: usize,
    #[arg(long, default_value_t = 40, value_parser = between(0, 1_000))]
    pub referrals: usize,
    #[arg(long, default_value_t = 120, value_parser = between(0, 10_000))]
    pub requests: usize,
    /// How the report is printed.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The report's language: en or zh-Hans [default: the locale's (LANG), else English].
    #[arg(long, value_parser = crate::admin::parse_language)]
    pub language: Option<Language>,
}

fn between(low: u64, high: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(low..=high)
}

/// Calls in flight at once, per step.
const IN_FLIGHT: usize = 8;
const COUNTRIES: [&str; 12] = [
    "FR", "IT", "DE", "ES", "GB", "US", "CN", "JP", "KR", "CH", "NL", "SE",
];
const SYLLABLES: [&str; 24] = [
    "vel", "mor", "qua", "zen", "tor", "bri", "sal", "ven", "dra", "lum", "cor", "fin", "gal",
    "ost", "pra", "riv", "sev", "tal", "ul", "vax", "wen", "xor", "ys", "zar",
];

/// A small deterministic generator: the same year every time.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Distinct made-up brand names of three syllables ("Velmorqua").
fn brand_names(count: usize) -> Vec<String> {
    let n = SYLLABLES.len();
    let mut names = Vec::with_capacity(count);
    let mut dice = Dice(0x5eed_2026);
    let mut seen = std::collections::HashSet::new();
    while names.len() < count {
        let name: String = (0..3).map(|_| SYLLABLES[dice.below(n)]).collect();
        if name.len() >= 7 && seen.insert(name.clone()) {
            let mut chars = name.chars();
            let first = chars.next().unwrap_or('x').to_ascii_uppercase();
            names.push(format!("{first}{}", chars.as_str()));
        }
    }
    names
}

fn eur(units: i64) -> Money {
    Money {
        currency_code: "EUR".to_owned(),
        units,
        nanos: 0,
    }
}

fn contact(email: &str) -> Contact {
    Contact {
        name: "Brand Protection Desk".to_owned(),
        email: email.to_owned(),
        phone: "+33123456789".to_owned(),
        role: "brand protection".to_owned(),
    }
}

fn step(name: &str, len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{prefix:>22} {bar:32} {pos:>6}/{len:<6} {msg}")
    {
        bar.set_style(style);
    }
    bar.set_prefix(name.to_owned());
    bar
}

/// Runs `work` on each item, a few at a time, counting them on `bar`.
async fn each<T, R, F, Fut>(bar: &ProgressBar, items: Vec<T>, work: F) -> anyhow::Result<Vec<R>>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<R>>,
{
    let done = futures::stream::iter(items)
        .map(work)
        .buffer_unordered(IN_FLIGHT)
        .inspect(|_| bar.inc(1))
        .try_collect()
        .await;
    bar.finish();
    done
}

/// Clients of the running system, each with its own principal's credentials.
struct Callers {
    addr: String,
    signer: TokenSigner,
}

impl Callers {
    fn channel(&self, principal: &str) -> anyhow::Result<PeerChannel> {
        let principal: Principal = principal.parse().map_err(anyhow::Error::msg)?;
        let token = self.signer.mint(&principal, Duration::from_secs(3600))?;
        client::connect(&self.addr, ServiceCredentials::fixed(token))
    }

    fn registry(&self, principal: &str) -> anyhow::Result<RegistryServiceClient<PeerChannel>> {
        Ok(RegistryServiceClient::new(self.channel(principal)?))
    }

    fn cases(&self, principal: &str) -> anyhow::Result<CasesServiceClient<PeerChannel>> {
        Ok(CasesServiceClient::new(self.channel(principal)?))
    }

    fn le(&self, principal: &str) -> anyhow::Result<LawEnforcementServiceClient<PeerChannel>> {
        Ok(LawEnforcementServiceClient::new(self.channel(principal)?))
    }
}

const ADMIN: &str = "staff:demo:admin";
const LEGAL: &str = "staff:lena:legal";
const ANALYST: &str = "staff:ann:analyst";
const PIPELINE: &str = "service:listing-pipeline";

pub async fn run(demo: Demo, mut config: AppConfig) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("a temporary directory for the demo")?;
    config.data_dir = dir.path().to_owned();
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.outbox.poll_interval = Duration::from_millis(50);
    // A year's work by a few people in a couple of minutes: the demo's own system lets its
    // staff, members and agencies call at that pace.
    let pace = |per_second| assay_common::config::Rate {
        per_second,
        burst: 2 * per_second,
    };
    let limits = &mut config.server.rate_limits;
    (limits.staff, limits.member, limits.agency) = (pace(10_000), pace(1_000), pace(1_000));
    for url in [
        &mut config.registry.database_url,
        &mut config.screening.database_url,
        &mut config.cases.database_url,
        &mut config.lawenforcement.database_url,
    ] {
        *url = None;
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let running = crate::start(config, ServiceName::ALL, listener).await?;
    let result = play(&demo, &running).await;
    running.shutdown();
    let stopped = running.wait().await;
    let figures = result?;
    stopped?;
    let language = demo.language.unwrap_or_else(Language::of_locale);
    language::speaking(language, async {
        crate::admin::print_report(figures, demo.format)
    })
    .await
}

async fn play(
    demo: &Demo,
    running: &crate::Running,
) -> anyhow::Result<cases::GetProgrammeReportResponse> {
    let callers = Callers {
        addr: format!("http://{}", running.addr),
        signer: running
            .platform
            .signer
            .clone()
            .context("the demo's system has no signing key")?,
    };
    wait_serving(&callers).await?;
    eprintln!(
        "Assay is running on {} (a temporary directory, gone when the demo ends).\n\
         A programme year, through the public APIs:\n",
        running.addr
    );
    let mut dice = Dice(2026);

    // The alliance: members, their brands and verified trade marks.
    let members = join_alliance(demo, &callers).await?;
    let brands = register_brands(demo, &callers, &members).await?;
    wait_for_engine(&callers, brands.len()).await?;

    // The marketplace's feed; screening's alerts become cases, and analysts act on them.
    let sellers: Vec<String> = (0..400).map(|i| format!("seller-{i:04}")).collect();
    let counterfeiters = screen_feed(demo, &callers, &brands, &sellers, &mut dice).await?;
    let taken_down = act_on_alerts(&callers, &mut dice).await?;

    // Rights holders' notices, some with a test purchase first; a few sellers appeal.
    let mut noticed = file_notices(demo, &callers, &brands, &sellers, &mut dice).await?;
    let appealed = noticed.split_off(noticed.len() - noticed.len() / 20);
    appeal(
        &callers,
        appealed.into_iter().map(|(id, _)| id).collect(),
        &mut dice,
    )
    .await?;

    // Agencies: referrals of the worst cases, and requests for information.
    let agencies = admit_agencies(demo, &callers).await?;
    // A referral rests on something that shows a counterfeit: a screening hit, or a
    // test purchase that found one.
    let bought = noticed
        .into_iter()
        .filter_map(|(id, bought)| bought.then_some(id));
    let worst: Vec<String> = taken_down
        .into_iter()
        .chain(bought)
        .take(demo.referrals)
        .collect();
    let arrests = refer(&callers, &agencies, worst, &mut dice).await?;
    ask_for_information(demo, &callers, &agencies, &counterfeiters, &mut dice).await?;
    wait_for_outcomes(&callers, arrests).await?;

    // The year's report, as the programme publishes it.
    let today = chrono::Utc::now().date_naive();
    let midnight = |day: chrono::NaiveDate| {
        assay_common::time::to_timestamp(day.and_time(chrono::NaiveTime::MIN).and_utc())
    };
    let report = callers
        .cases(ADMIN)?
        .get_programme_report(cases::GetProgrammeReportRequest {
            period: Some(assay_proto::common::v1::TimeRange {
                start_time: Some(midnight(today - chrono::Days::new(364))),
                end_time: Some(midnight(today + chrono::Days::new(1))),
            }),
        })
        .await?
        .into_inner();
    eprintln!();
    Ok(report)
}

async fn wait_serving(callers: &Callers) -> anyhow::Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let mut health = HealthClient::new(callers.channel(ADMIN)?);
    for _ in 0..600 {
        let all = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .is_ok_and(|r| r.into_inner().status() == ServingStatus::Serving);
        if all {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the services did not start within 30 s")
}

async fn join_alliance(demo: &Demo, callers: &Callers) -> anyhow::Result<Vec<String>> {
    let bar = step("members join", demo.members);
    let admin = callers.registry(ADMIN)?;
    each(&bar, (0..demo.members).collect(), |i| {
        let mut admin = admin.clone();
        async move {
            let kind = if i % 20 == 19 {
                registry::MemberKind::IndustryAssociation
            } else {
                registry::MemberKind::BrandOwner
            };
            let member = admin
                .create_member(registry::CreateMemberRequest {
                    member: Some(registry::Member {
                        legal_name: format!("Maison {} SA", i + 1),
                        kind: kind as i32,
                        country_code: COUNTRIES[i % COUNTRIES.len()].to_owned(),
                        contacts: vec![contact(&format!("ip@member{}.example", i + 1))],
                        website: format!("https://member{}.example", i + 1),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await?
                .into_inner()
                .member
                .context("no member")?;
            admin
                .activate_member(registry::ActivateMemberRequest {
                    id: member.id.clone(),
                    etag: String::new(),
                    reason: "admitted to the alliance".to_owned(),
                })
                .await?;
            Ok(member.id)
        }
    })
    .await
}

/// A brand and the member that owns it.
#[derive(Clone)]
struct OwnedBrand {
    member_id: String,
    name: String,
    right_id: String,
}

async fn register_brands(
    demo: &Demo,
    callers: &Callers,
    members: &[String],
) -> anyhow::Result<Vec<OwnedBrand>> {
    let names = brand_names(members.len() * demo.brands_per_member);
    let bar = step("brands registered", names.len());
    let admin = callers.registry(ADMIN)?;
    let legal = callers.registry(LEGAL)?;
    let work: Vec<(usize, String)> = names.into_iter().enumerate().collect();
    each(&bar, work, |(i, name)| {
        let (mut admin, mut legal) = (admin.clone(), legal.clone());
        let member_id = members[i / demo.brands_per_member.max(1)].clone();
        async move {
            let brand = admin
                .create_brand(registry::CreateBrandRequest {
                    brand: Some(registry::Brand {
                        member_id: member_id.clone(),
                        name: name.clone(),
                        categories: vec!["handbags".to_owned(), "watches".to_owned()],
                        reference_prices: vec![registry::ReferencePrice {
                            category: "handbags".to_owned(),
                            price: Some(eur(900 + (i as i64 % 7) * 150)),
                        }],
                        authorized_seller_ids: vec![format!("official-{}", i + 1)],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await?
                .into_inner()
                .brand
                .context("no brand")?;
            let right = admin
                .create_ip_right(registry::CreateIpRightRequest {
                    ip_right: Some(registry::IpRight {
                        brand_id: brand.id.clone(),
                        kind: registry::IpRightKind::Trademark as i32,
                        office: registry::IpOffice::Euipo as i32,
                        registration_number: format!("0188{:05}", i + 1),
                        nice_classes: vec![14, 18],
                        valid_from: Some(Date {
                            year: 2020,
                            month: 1,
                            day: 15,
                        }),
                        valid_until: Some(Date {
                            year: 2035,
                            month: 1,
                            day: 15,
                        }),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await?
                .into_inner()
                .ip_right
                .context("no right")?;
            legal
                .verify_ip_right(registry::VerifyIpRightRequest {
                    id: right.id.clone(),
                    etag: String::new(),
                    note: "checked against the EUIPO register".to_owned(),
                })
                .await?;
            Ok(OwnedBrand {
                member_id,
                name,
                right_id: right.id,
            })
        }
    })
    .await
}

async fn wait_for_engine(callers: &Callers, brands: usize) -> anyhow::Result<()> {
    let mut screening = ScreeningServiceClient::new(callers.channel(PIPELINE)?);
    for _ in 0..1200 {
        let status = screening
            .get_engine_status(screening::GetEngineStatusRequest {})
            .await?
            .into_inner();
        if status.loaded && status.brands as usize >= brands {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("screening did not load the {brands} brands within 60 s")
}

async fn screen_feed(
    demo: &Demo,
    callers: &Callers,
    brands: &[OwnedBrand],
    sellers: &[String],
    dice: &mut Dice,
) -> anyhow::Result<Vec<String>> {
    let bar = step("listings screened", demo.listings);
    let mut counterfeiters = std::collections::BTreeSet::new();
    let ordinary = [
        ("Leather tote bag, black, genuine cowhide", "handbags", 120),
        ("Stainless steel diver watch, 200 m", "watches", 89),
        ("Canvas backpack with laptop sleeve", "handbags", 45),
        ("Silk scarf, floral print, 90 x 90 cm", "accessories", 35),
    ];
    let listings: Vec<screening::ScreenListingsRequest> = (0..demo.listings)
        .map(|i| {
            let seller = sellers[dice.below(sellers.len())].clone();
            let (title, category, price) = if dice.below(40) == 0 {
                counterfeiters.insert(seller.clone());
                let brand = &brands[dice.below(brands.len())];
                (
                    format!("{} replica handbag 1:1 mirror quality", brand.name),
                    "handbags".to_owned(),
                    45,
                )
            } else {
                let (title, category, price) = ordinary[dice.below(ordinary.len())];
                (title.to_owned(), category.to_owned(), price)
            };
            screening::ScreenListingsRequest {
                listing: Some(screening::Listing {
                    listing_id: format!("lst-{i:06}"),
                    seller_id: seller,
                    title,
                    category,
                    price: Some(eur(price)),
                    ship_from_country: "CN".to_owned(),
                    ..Default::default()
                }),
            }
        })
        .collect();
    let mut screening = ScreeningServiceClient::new(callers.channel(PIPELINE)?);
    let mut answers = screening
        .screen_listings(futures::stream::iter(listings))
        .await?
        .into_inner();
    while answers.message().await?.is_some() {
        bar.inc(1);
    }
    bar.finish();
    Ok(counterfeiters.into_iter().collect())
}

/// Every case screening's alerts opened, once they have all arrived.
async fn alert_cases(callers: &Callers) -> anyhow::Result<Vec<String>> {
    let mut analyst = callers.cases(ANALYST)?;
    let mut seen = 0;
    let mut quiet = 0;
    loop {
        let mut ids = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = analyst
                .list_cases(cases::ListCasesRequest {
                    page_size: 1000,
                    page_token,
                    source: cases::CaseSource::ScreeningAlert as i32,
                    ..Default::default()
                })
                .await?
                .into_inner();
            ids.extend(page.cases.into_iter().map(|c| c.id));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        // The outbox delivers in batches: done when nothing new came for a while.
        quiet = if ids.len() == seen { quiet + 1 } else { 0 };
        seen = ids.len();
        if quiet >= 10 && seen > 0 || quiet >= 100 {
            return Ok(ids);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Analysts review every alert: most are taken down, some rejected. Returns the cases taken
/// down.
async fn act_on_alerts(callers: &Callers, dice: &mut Dice) -> anyhow::Result<Vec<String>> {
    let ids = alert_cases(callers).await?;
    let bar = step("alerts decided", ids.len());
    let analyst = callers.cases(ANALYST)?;
    let work: Vec<(String, bool)> = ids.into_iter().map(|id| (id, dice.chance(88))).collect();
    let decided = each(&bar, work, |(id, counterfeit)| {
        let mut analyst = analyst.clone();
        async move {
            decide(&mut analyst, &id, counterfeit).await?;
            Ok(counterfeit.then_some(id))
        }
    })
    .await?;
    Ok(decided.into_iter().flatten().collect())
}

async fn decide(
    analyst: &mut CasesServiceClient<PeerChannel>,
    id: &str,
    counterfeit: bool,
) -> anyhow::Result<()> {
    analyst
        .start_review(cases::StartReviewRequest {
            id: id.to_owned(),
            etag: String::new(),
        })
        .await?;
    if counterfeit {
        analyst
            .take_action(cases::TakeActionRequest {
                id: id.to_owned(),
                etag: String::new(),
                note: "counterfeit: the mark on a replica at a fraction of the price".to_owned(),
                reason_codes: vec![cases::ReasonCode::Counterfeit as i32],
            })
            .await?;
    } else {
        analyst
            .reject_case(cases::RejectCaseRequest {
                id: id.to_owned(),
                etag: String::new(),
                note: "a genuine second-hand item".to_owned(),
            })
            .await?;
    }
    Ok(())
}

/// Members file notices; one in five buys the item first and has it examined. Analysts
/// uphold nearly all. Returns the cases taken down, each with whether it was bought.
async fn file_notices(
    demo: &Demo,
    callers: &Callers,
    brands: &[OwnedBrand],
    sellers: &[String],
    dice: &mut Dice,
) -> anyhow::Result<Vec<(String, bool)>> {
    let bar = step("notices decided", demo.notices);
    let analyst = callers.cases(ANALYST)?;
    let work: Vec<(usize, OwnedBrand, String, bool, bool)> = (0..demo.notices)
        .map(|i| {
            (
                i,
                brands[dice.below(brands.len())].clone(),
                sellers[dice.below(sellers.len())].clone(),
                dice.chance(20),
                dice.chance(96),
            )
        })
        .collect();
    let decided = each(&bar, work, |(i, brand, seller, test_buy, upheld)| {
        let mut analyst = analyst.clone();
        async move {
            let mut member = callers.cases(&format!("member:{}", brand.member_id))?;
            let listing_id = format!("ntc-{i:05}");
            let case = member
                .submit_notice(cases::SubmitNoticeRequest {
                    notice: Some(cases::Notice {
                        member_id: brand.member_id.clone(),
                        ip_right_id: brand.right_id.clone(),
                        listings: vec![cases::CaseListing {
                            listing_id: listing_id.clone(),
                            seller_id: seller,
                            title: format!("{} bag", brand.name),
                            ..Default::default()
                        }],
                        statement: format!(
                            "This listing sells counterfeit goods under our {} trade mark.",
                            brand.name
                        ),
                        good_faith: true,
                        reason_codes: vec![cases::ReasonCode::Counterfeit as i32],
                    }),
                    request_id: String::new(),
                })
                .await?
                .into_inner()
                .r#case
                .context("no case")?;
            if test_buy {
                member
                    .record_test_purchase(cases::RecordTestPurchaseRequest {
                        case_id: case.id.clone(),
                        test_purchase: Some(cases::TestPurchase {
                            listing_id,
                            order_reference: format!("ORD-{i:06}"),
                            order_date: Some(assay_common::time::to_date(
                                chrono::Utc::now().date_naive(),
                            )),
                            price_paid: Some(eur(52)),
                            delivered_to: "Brand protection office, Paris, FR".to_owned(),
                            authenticator: format!("Product integrity, {}", brand.name),
                            method: cases::TestPurchaseMethod::BrandExpert as i32,
                            conclusion: cases::TestPurchaseConclusion::Counterfeit as i32,
                            findings: "Wrong stitching, no serial number, fake dust bag."
                                .to_owned(),
                            ..Default::default()
                        }),
                        photos: vec![],
                        request_id: String::new(),
                    })
                    .await?;
            }
            decide(&mut analyst, &case.id, upheld).await?;
            Ok(upheld.then_some((case.id, test_buy)))
        }
    })
    .await?;
    Ok(decided.into_iter().flatten().collect())
}

/// An agency, and the e-mail domain its officers write from.
#[derive(Clone)]
struct Agency {
    id: String,
    domain: String,
}

/// Sellers file counter-notices; legal reinstates one in three and upholds the rest.
async fn appeal(callers: &Callers, cases: Vec<String>, dice: &mut Dice) -> anyhow::Result<()> {
    let bar = step("counter-notices", cases.len());
    let portal = callers.cases("service:seller-portal")?;
    let legal = callers.cases(LEGAL)?;
    let work: Vec<(String, bool)> = cases.into_iter().map(|id| (id, dice.chance(33))).collect();
    each(&bar, work, |(id, reinstate)| {
        let (mut portal, mut legal) = (portal.clone(), legal.clone());
        async move {
            portal
                .file_counter_notice(cases::FileCounterNoticeRequest {
                    id: id.clone(),
                    etag: String::new(),
                    counter_notice: Some(cases::CounterNotice {
                        statement: "Bought from an authorised distributor; invoice available."
                            .to_owned(),
                        contact: Some(contact("legal@seller.example")),
                        ..Default::default()
                    }),
                    evidence: vec![],
                })
                .await?;
            let decision = if reinstate {
                cases::CounterNoticeDecision::Reinstate
            } else {
                cases::CounterNoticeDecision::Uphold
            };
            legal
                .resolve_counter_notice(cases::ResolveCounterNoticeRequest {
                    id,
                    etag: String::new(),
                    decision: decision as i32,
                    note: "weighed the seller's evidence".to_owned(),
                })
                .await?;
            Ok(())
        }
    })
    .await?;
    Ok(())
}

async fn admit_agencies(demo: &Demo, callers: &Callers) -> anyhow::Result<Vec<Agency>> {
    let bar = step("agencies admitted", demo.agencies);
    let legal = callers.le(LEGAL)?;
    each(&bar, (0..demo.agencies).collect(), |i| {
        let mut legal = legal.clone();
        async move {
            let country = COUNTRIES[i % COUNTRIES.len()];
            let domain = format!("police{}.{}", i + 1, country.to_ascii_lowercase());
            let agency = legal
                .create_agency(le::CreateAgencyRequest {
                    agency: Some(le::Agency {
                        name: format!("Anti-counterfeiting unit {} ({country})", i + 1),
                        country_code: country.to_owned(),
                        level: le::AgencyLevel::Federal as i32,
                        verified_email_domains: vec![domain.clone()],
                        contacts: vec![Contact {
                            name: "Duty officer".to_owned(),
                            email: format!("duty@{domain}"),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await?
                .into_inner()
                .agency
                .context("no agency")?;
            legal
                .activate_agency(le::ActivateAgencyRequest {
                    id: agency.id.clone(),
                    etag: String::new(),
                })
                .await?;
            Ok(Agency {
                id: agency.id,
                domain,
            })
        }
    })
    .await
}

/// Cases escalated and referred; each agency acknowledges what it received and reports
/// arrests and seizures. Returns the arrests reported.
async fn refer(
    callers: &Callers,
    agencies: &[Agency],
    worst: Vec<String>,
    dice: &mut Dice,
) -> anyhow::Result<i64> {
    let bar = step("cases referred", worst.len());
    let analyst = callers.cases(ANALYST)?;
    let legal = callers.cases(LEGAL)?;
    let work: Vec<(String, String)> = worst
        .into_iter()
        .map(|id| (id, agencies[dice.below(agencies.len())].id.clone()))
        .collect();
    let referred = work.len();
    each(&bar, work, |(id, agency)| {
        let (mut analyst, mut legal) = (analyst.clone(), legal.clone());
        async move {
            analyst
                .escalate_case(cases::EscalateCaseRequest {
                    id: id.clone(),
                    etag: String::new(),
                    note: "a supplier behind the seller".to_owned(),
                })
                .await?;
            legal
                .refer_case(cases::ReferCaseRequest {
                    id: id.clone(),
                    etag: String::new(),
                    referral: Some(cases::Referral {
                        agency_id: agency,
                        summary: "Counterfeit goods sold at scale; evidence attached.".to_owned(),
                        ..Default::default()
                    }),
                })
                .await?;
            Ok(())
        }
    })
    .await?;

    // The referrals travel to the agencies; each reports what came of its own.
    let bar = step("referral outcomes", referred);
    let mut arrests = 0;
    let mut reported = std::collections::HashSet::new();
    for _ in 0..600 {
        for agency in agencies {
            let mut client = callers.le(&format!("agency:{}", agency.id))?;
            let inbox = client
                .list_referrals(le::ListReferralsRequest {
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?
                .into_inner()
                .referrals;
            for referral in inbox {
                if !reported.insert(referral.id.clone()) {
                    continue;
                }
                client
                    .acknowledge_referral(le::AcknowledgeReferralRequest {
                        id: referral.id.clone(),
                    })
                    .await?;
                let outcome = le::Outcome {
                    arrests: (dice.below(7)) as i32,
                    seized_units: 100 + dice.below(5000) as i64,
                    convictions: (dice.below(3)) as i32,
                    note: "warehouse searched".to_owned(),
                    ..Default::default()
                };
                arrests += i64::from(outcome.arrests);
                client
                    .report_referral_outcome(le::ReportReferralOutcomeRequest {
                        id: referral.id,
                        outcome: Some(outcome),
                        request_id: String::new(),
                    })
                    .await?;
                bar.inc(1);
            }
        }
        if reported.len() >= referred {
            bar.finish();
            return Ok(arrests);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "{} of {referred} referrals reached their agencies within 60 s",
        reported.len()
    )
}

/// Agencies ask about sellers of counterfeits; legal verifies, reviews, gathers and discloses (refusing
/// some), and the agencies report what the answers led to.
async fn ask_for_information(
    demo: &Demo,
    callers: &Callers,
    agencies: &[Agency],
    sellers: &[String],
    dice: &mut Dice,
) -> anyhow::Result<()> {
    let bar = step("requests answered", demo.requests);
    let legal = callers.le(LEGAL)?;
    let work: Vec<(usize, Agency, String, bool, i32)> = (0..demo.requests)
        .map(|i| {
            (
                i,
                agencies[dice.below(agencies.len())].clone(),
                sellers[dice.below(sellers.len())].clone(),
                dice.chance(90),
                dice.below(5) as i32,
            )
        })
        .collect();
    each(&bar, work, |(i, agency, seller, approve, arrests)| {
        let mut legal = legal.clone();
        async move {
            let mut client = callers.le(&format!("agency:{}", agency.id))?;
            let filed = client
                .submit_request(le::SubmitRequestRequest {
                    legal_request: Some(le::LegalRequest {
                        process: le::LegalProcess::CourtOrder as i32,
                        reference: format!("Proc. {}/26", 1000 + i),
                        requester_name: "Investigating officer".to_owned(),
                        requester_email: format!("officer@{}", agency.domain),
                        targets: vec![le::Target {
                            kind: le::TargetKind::Seller as i32,
                            id: seller,
                        }],
                        data_categories: vec![
                            le::DataCategory::ScreenedListings as i32,
                            le::DataCategory::Cases as i32,
                        ],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await?
                .into_inner()
                .legal_request
                .context("no request")?;
            let id = filed.id;
            legal
                .start_verification(le::StartVerificationRequest {
                    id: id.clone(),
                    etag: String::new(),
                })
                .await?;
            legal
                .complete_verification(le::CompleteVerificationRequest {
                    id: id.clone(),
                    etag: String::new(),
                    confirmation: Some(le::Confirmation {
                        method: "called the agency on its published number".to_owned(),
                        channel: le::ConfirmationChannel::Callback as i32,
                        ..Default::default()
                    }),
                })
                .await?;
            let decision = if approve {
                le::ReviewDecision::Approve
            } else {
                le::ReviewDecision::Reject
            };
            legal
                .review_request(le::ReviewRequestRequest {
                    id: id.clone(),
                    decision: decision as i32,
                    reasons: if approve {
                        "a court order, proportionate to the offence".to_owned()
                    } else {
                        "the order does not name the marketplace".to_owned()
                    },
                    ..Default::default()
                })
                .await?;
            if !approve {
                return Ok(());
            }
            legal
                .gather_request(le::GatherRequestRequest {
                    id: id.clone(),
                    etag: String::new(),
                })
                .await?;
            legal
                .disclose_request(le::DiscloseRequestRequest {
                    id: id.clone(),
                    etag: String::new(),
                })
                .await?;
            // What an answer led to is reported where it led to something.
            if arrests == 0 {
                return Ok(());
            }
            client
                .report_request_outcome(le::ReportRequestOutcomeRequest {
                    id,
                    outcome: Some(le::Outcome {
                        arrests,
                        note: "the payment account led to a supplier".to_owned(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await?;
            Ok(())
        }
    })
    .await?;
    Ok(())
}

/// Waits until case management has heard every arrest reported on referrals.
async fn wait_for_outcomes(callers: &Callers, arrests: i64) -> anyhow::Result<()> {
    let mut analyst = callers.cases(ANALYST)?;
    for _ in 0..600 {
        let figures = analyst
            .get_enforcement_figures(cases::GetEnforcementFiguresRequest::default())
            .await?
            .into_inner();
        if figures.arrests >= arrests {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the referrals' outcomes did not reach case management within 60 s")
}
