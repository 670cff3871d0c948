//! `assay admin import`: rows of a CSV file become brands, IP rights or authorised sellers.
//! Each row is sent with request ids made from its content (or, for sellers, as a set
//! union), so the same file imports the same way again and a rerun resumes.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use assay_common::client::PeerChannel;
use assay_proto::common::v1::{Date, Money};
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use chrono::NaiveDate;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::print::emit;
use super::{enum_value, status};

/// The most rows one import takes; a larger spreadsheet is split.
const MAX_ROWS: usize = 1_000_000;

/// Read-modify-write rounds for one brand's sellers before giving up on a busy brand.
const MAX_ROUNDS: usize = 8;

/// What an import does with its rows.
pub(super) struct Import {
    pub(super) member: Option<String>,
    pub(super) verify: bool,
    pub(super) concurrency: usize,
}

/// What each kind of file holds.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Brands,
    Rights,
    Sellers,
}

type Client = RegistryServiceClient<PeerChannel>;

/// A row of a file, parsed into what the server will be asked to record.
struct Row<T> {
    line: u64,
    /// What the row is called in the report of refused rows.
    name: String,
    /// Identifies the row's content, for its request ids.
    digest: String,
    value: T,
}

/// A row that was refused, with why.
struct Refused {
    line: u64,
    name: String,
    reason: String,
}

/// What a brands file's row asks for.
struct BrandRow {
    brand: registry::Brand,
    right: Option<registry::IpRight>,
}

/// What an IP rights file's row asks for.
struct RightRow {
    brand_id: String,
    right: registry::IpRight,
}

/// What an authorised sellers file's row asks for.
struct SellerRow {
    brand_id: String,
    seller_id: String,
}

pub(super) async fn import(
    kind: Kind,
    channel: PeerChannel,
    file: &Path,
    refused_path: &Path,
    options: &Import,
) -> anyhow::Result<()> {
    let client = RegistryServiceClient::new(channel);
    match kind {
        Kind::Brands => {
            let rows = read_rows(file, &BRAND_COLUMNS, "name", |field| {
                brand_row(field, options.member.as_deref())
            })?;
            if options.member.is_none() && !rows.columns.iter().any(|c| c == "member_id") {
                bail!("{}: give --member or a `member_id` column", file.display());
            }
            import_each(rows.rows, options.concurrency, refused_path, |row| {
                let client = client.clone();
                async move { import_brand(&client, row, options.verify).await }
            })
            .await
        }
        Kind::Rights => {
            let rows = read_rows(file, &RIGHT_COLUMNS, "registration_number", right_row)?;
            require(file, &rows.columns, &["brand_id", "registration_number"])?;
            import_each(rows.rows, options.concurrency, refused_path, |row| {
                let client = client.clone();
                async move {
                    let RightRow { brand_id, right } = row.value;
                    create_right(&client, &brand_id, right, &row.digest, options.verify)
                        .await
                        .map_err(|reason| Refused {
                            line: row.line,
                            name: row.name,
                            reason,
                        })
                }
            })
            .await
        }
        Kind::Sellers => {
            let rows = read_rows(file, &SELLER_COLUMNS, "seller_id", seller_row)?;
            require(file, &rows.columns, &["brand_id", "seller_id"])?;
            let total = rows.rows.len();
            // One brand's sellers are one update: rows of a brand are sent together.
            let mut brands: BTreeMap<String, Vec<Row<SellerRow>>> = BTreeMap::new();
            let mut early = Vec::new();
            for row in rows.rows {
                match row {
                    Ok(row) => brands
                        .entry(row.value.brand_id.clone())
                        .or_default()
                        .push(row),
                    Err(refused) => early.push(Err(refused)),
                }
            }
            let work = futures::stream::iter(brands)
                .map(|(brand_id, rows)| {
                    let client = client.clone();
                    async move {
                        let sellers = rows.iter().map(|r| r.value.seller_id.clone()).collect();
                        let said = add_sellers(&client, &brand_id, sellers).await;
                        rows.into_iter()
                            .map(|row| {
                                said.clone().map_err(|reason| Refused {
                                    line: row.line,
                                    name: row.name,
                                    reason,
                                })
                            })
                            .collect::<Vec<_>>()
                    }
                })
                .buffer_unordered(options.concurrency);
            let outcomes = futures::stream::iter([early]).chain(work);
            report_batches(total, outcomes, refused_path).await
        }
    }
}

/// Imports each parsed row, `concurrency` at a time, and sends each refused one straight
/// to the report.
async fn import_each<T, F, R>(
    rows: Vec<Result<Row<T>, Refused>>,
    concurrency: usize,
    refused_path: &Path,
    mut import: F,
) -> anyhow::Result<()>
where
    F: FnMut(Row<T>) -> R,
    R: Future<Output = Result<(), Refused>>,
{
    use futures::future::{Either, ready};
    let total = rows.len();
    let work = futures::stream::iter(rows).map(move |row| match row {
        Ok(row) => Either::Left(import(row)),
        Err(refused) => Either::Right(ready(Err(refused))),
    });
    report(total, work.buffer_unordered(concurrency), refused_path).await
}

async fn report(
    total: usize,
    outcomes: impl Stream<Item = Result<(), Refused>>,
    refused_path: &Path,
) -> anyhow::Result<()> {
    report_batches(total, outcomes.map(|outcome| vec![outcome]), refused_path).await
}

/// Shows progress as rows finish, then writes the refused ones with their reasons beside
/// the file and says how the import went; fails if any row was refused.
async fn report_batches(
    total: usize,
    outcomes: impl Stream<Item = Vec<Result<(), Refused>>>,
    refused_path: &Path,
) -> anyhow::Result<()> {
    let progress = indicatif::ProgressBar::new(total as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows  {per_sec}  {eta} left  {msg}",
        )?,
    );
    let (mut imported, mut refused) = (0u64, Vec::new());
    let mut outcomes = std::pin::pin!(outcomes);
    while let Some(batch) = outcomes.next().await {
        progress.inc(batch.len() as u64);
        for outcome in batch {
            match outcome {
                Ok(()) => imported += 1,
                Err(row) => {
                    refused.push((row.line, row.name, row.reason));
                    progress.set_message(format!("{} refused", refused.len()));
                }
            }
        }
    }
    progress.finish_and_clear();
    refused.sort();
    if refused.is_empty() {
        let _ = std::fs::remove_file(refused_path);
    } else {
        let mut out = csv::Writer::from_path(refused_path)
            .with_context(|| format!("writing {}", refused_path.display()))?;
        out.write_record(["line", "name", "reason"])?;
        for (line, name, reason) in &refused {
            out.write_record([line.to_string().as_str(), name, reason])?;
        }
        out.flush()?;
    }
    emit(&format!(
        "{total} rows: {imported} imported (or already there), {} refused{}\n",
        refused.len(),
        if refused.is_empty() {
            String::new()
        } else {
            format!(", with the reasons in {}", refused_path.display())
        }
    ))?;
    if refused.is_empty() {
        Ok(())
    } else {
        bail!("{} rows were refused", refused.len())
    }
}

/// A file's header and its rows, each parsed or refused with its reason.
struct Rows<T> {
    columns: Vec<String>,
    rows: Vec<Result<Row<T>, Refused>>,
}

/// Reads a CSV file with a header of known columns; `name` is the column that names a row
/// in the report. A malformed row is that row's problem, not the file's.
fn read_rows<T>(
    file: &Path,
    known: &[&str],
    name: &str,
    parse: impl Fn(&Fields) -> anyhow::Result<T>,
) -> anyhow::Result<Rows<T>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let headers = reader.headers()?.clone();
    if let Some(unknown) = headers.iter().find(|h| !known.contains(h)) {
        bail!(
            "{}: unknown column {unknown:?}; the columns are {}",
            file.display(),
            known.join(", ")
        );
    }
    if !headers.iter().any(|h| h == name) {
        bail!("{}: the header has no `{name}` column", file.display());
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        if rows.len() == MAX_ROWS {
            bail!("{}: more than {MAX_ROWS} rows; split it", file.display());
        }
        let record = match record {
            Ok(record) => record,
            Err(error) if error.position().is_some() => {
                rows.push(Err(Refused {
                    line: error.position().map_or(0, |p| p.line()),
                    name: String::new(),
                    reason: error.to_string(),
                }));
                continue;
            }
            Err(error) => return Err(error).with_context(|| format!("reading {}", file.display())),
        };
        let line = record.position().map_or(0, |p| p.line());
        let fields = Fields {
            headers: &headers,
            record: &record,
        };
        let row_name = fields.get(name).to_owned();
        rows.push(match parse(&fields) {
            Ok(value) => Ok(Row {
                line,
                name: row_name,
                digest: row_digest(&record),
                value,
            }),
            Err(error) => Err(Refused {
                line,
                name: row_name,
                reason: format!("{error:#}"),
            }),
        });
    }
    Ok(Rows {
        columns: headers.iter().map(str::to_owned).collect(),
        rows,
    })
}

/// Fails unless the header has every one of `columns`.
fn require(file: &Path, header: &[String], columns: &[&str]) -> anyhow::Result<()> {
    match columns.iter().find(|c| !header.iter().any(|h| h == *c)) {
        Some(missing) => bail!("{}: the header has no `{missing}` column", file.display()),
        None => Ok(()),
    }
}

/// One row's fields by column name; a column the file lacks reads as empty.
struct Fields<'a> {
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Fields<'_> {
    fn get(&self, column: &str) -> &str {
        self.headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.get(i))
            .unwrap_or("")
    }

    /// A `;`-separated list.
    fn list(&self, column: &str) -> Vec<String> {
        self.get(column)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A row's content, each field with its length, so that no two different rows agree.
fn row_digest(record: &csv::StringRecord) -> String {
    let mut hash = Sha256::new();
    for field in record {
        hash.update((field.len() as u64).to_le_bytes());
        hash.update(field.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// The columns of a right, in a brands file (for its trade mark) and an IP rights file.
const RIGHT_FIELDS: [&str; 6] = [
    "registration_number",
    "office",
    "nice_classes",
    "valid_from",
    "valid_until",
    "mark_text",
];

/// `first`, then the columns of a right; checked when compiled.
const fn then_right<const N: usize, const M: usize>(first: [&'static str; N]) -> [&'static str; M] {
    assert!(M == N + RIGHT_FIELDS.len());
    let mut columns = [""; M];
    let mut i = 0;
    while i < M {
        columns[i] = if i < N { first[i] } else { RIGHT_FIELDS[i - N] };
        i += 1;
    }
    columns
}

const BRAND_COLUMNS: [&str; 12] = then_right([
    "name",
    "member_id",
    "aliases",
    "categories",
    "authorized_sellers",
    "reference_prices",
]);

const RIGHT_COLUMNS: [&str; 8] = then_right(["brand_id", "kind"]);

const SELLER_COLUMNS: [&str; 2] = ["brand_id", "seller_id"];

fn brand_row(fields: &Fields, member: Option<&str>) -> anyhow::Result<BrandRow> {
    let member_id = match (member, fields.get("member_id")) {
        (Some(member), "") => member.to_owned(),
        (Some(member), column) if column == member => member.to_owned(),
        (Some(_), column) => bail!("member_id {column:?} differs from --member"),
        (None, "") => bail!("member_id is empty"),
        (None, column) => column.to_owned(),
    };
    let reference_prices = fields
        .list("reference_prices")
        .iter()
        .map(|pair| {
            let (category, price) = pair.split_once('=').with_context(|| {
                format!("reference_prices: {pair:?} is not category=CUR amount")
            })?;
            Ok(registry::ReferencePrice {
                category: category.trim().to_owned(),
                price: Some(money(price).with_context(|| format!("reference_prices: {pair:?}"))?),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let brand = registry::Brand {
        member_id,
        name: fields.get("name").to_owned(),
        aliases: fields.list("aliases"),
        categories: fields.list("categories"),
        reference_prices,
        authorized_seller_ids: fields.list("authorized_sellers"),
        ..Default::default()
    };
    let right = if fields.get("registration_number").is_empty() {
        None
    } else {
        Some(right(fields, registry::IpRightKind::Trademark)?)
    };
    Ok(BrandRow { brand, right })
}

fn right_row(fields: &Fields) -> anyhow::Result<RightRow> {
    let kind = match fields.get("kind") {
        "" => registry::IpRightKind::Trademark,
        kind => enum_value(kind, "IP_RIGHT_KIND_", registry::IpRightKind::from_str_name)
            .context("kind")?,
    };
    let brand_id = match fields.get("brand_id") {
        "" => bail!("brand_id is empty"),
        id => id.to_owned(),
    };
    if fields.get("registration_number").is_empty() {
        bail!("registration_number is empty");
    }
    Ok(RightRow {
        brand_id,
        right: right(fields, kind)?,
    })
}

fn seller_row(fields: &Fields) -> anyhow::Result<SellerRow> {
    match (fields.get("brand_id"), fields.get("seller_id")) {
        ("", _) => bail!("brand_id is empty"),
        (_, "") => bail!("seller_id is empty"),
        (brand_id, seller_id) => Ok(SellerRow {
            brand_id: brand_id.to_owned(),
            seller_id: seller_id.to_owned(),
        }),
    }
}

/// The right a row describes; the server checks the rest (formats, classes, dates).
fn right(fields: &Fields, kind: registry::IpRightKind) -> anyhow::Result<registry::IpRight> {
    let office = match fields.get("office") {
        "" => bail!("office is empty, though registration_number is set"),
        office => {
            enum_value(office, "IP_OFFICE_", registry::IpOffice::from_str_name).context("office")?
        }
    };
    let nice_classes = fields
        .list("nice_classes")
        .iter()
        .map(|c| {
            c.parse::<i32>()
                .with_context(|| format!("nice_classes: {c:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(registry::IpRight {
        kind: kind as i32,
        office: office as i32,
        registration_number: fields.get("registration_number").to_owned(),
        nice_classes,
        valid_from: date(fields.get("valid_from")).context("valid_from")?,
        valid_until: date(fields.get("valid_until")).context("valid_until")?,
        mark_text: fields.get("mark_text").to_owned(),
        ..Default::default()
    })
}

/// `EUR 1200` or `EUR 1200.50`.
fn money(text: &str) -> anyhow::Result<Money> {
    let (currency, amount) = text
        .trim()
        .split_once(' ')
        .context("write a currency and an amount, e.g. EUR 1200")?;
    let (units, fraction) = amount.trim().split_once('.').unwrap_or((amount.trim(), ""));
    anyhow::ensure!(
        fraction.len() <= 9 && fraction.bytes().all(|b| b.is_ascii_digit()),
        "{amount:?} is not an amount"
    );
    let units: i64 = units
        .parse()
        .with_context(|| format!("{amount:?} is not an amount"))?;
    let nanos: i32 = format!("{fraction:0<9}").parse().unwrap_or(0);
    Ok(Money {
        currency_code: currency.trim().to_owned(),
        units,
        nanos: if units < 0 { -nanos } else { nanos },
    })
}

fn date(text: &str) -> anyhow::Result<Option<Date>> {
    if text.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("{text:?} is not a YYYY-MM-DD date"))?;
    Ok(Some(assay_common::time::to_date(day)))
}

/// A request id for one step of one row: the same file imports the same way again.
fn request_id(step: &str, scope: &str, digest: &str) -> String {
    let id = Sha256::digest(format!("{step}\0{scope}\0{digest}"));
    format!("import-{}", &hex::encode(id)[..40])
}

/// Calls `rpc` until it answers, waiting and trying again (up to eight times, backing off
/// to 5 s) while the server says to slow down or is briefly unavailable. Only for calls that
/// may be repeated: creates with a request id, reads.
async fn patiently<T, F, R>(mut rpc: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> R,
    R: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let mut wait = Duration::from_millis(100);
    let mut tries = 0;
    loop {
        match rpc().await {
            Ok(answer) => return Ok(answer.into_inner()),
            Err(error)
                if tries < 8
                    && matches!(
                        error.code(),
                        tonic::Code::ResourceExhausted | tonic::Code::Unavailable
                    ) =>
            {
                tries += 1;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(error),
        }
    }
}

/// A brand and, where the row has one, its trade mark.
async fn import_brand(client: &Client, row: Row<BrandRow>, verify: bool) -> Result<(), Refused> {
    let refused = |reason: String| Refused {
        line: row.line,
        name: row.name.clone(),
        reason,
    };
    let create = registry::CreateBrandRequest {
        request_id: request_id("brand", &row.value.brand.member_id, &row.digest),
        brand: Some(row.value.brand.clone()),
    };
    let brand = patiently(|| {
        let (mut client, request) = (client.clone(), create.clone());
        async move { client.create_brand(request).await }
    })
    .await
    .map_err(|error| refused(format!("brand: {}", status(error))))?
    .brand
    .unwrap_or_default();
    match row.value.right.clone() {
        Some(right) => create_right(client, &brand.id, right, &row.digest, verify)
            .await
            .map_err(|reason| refused(format!("trade mark: {reason}"))),
        None => Ok(()),
    }
}

/// Records a right of a brand and, if asked, verifies it.
async fn create_right(
    client: &Client,
    brand_id: &str,
    right: registry::IpRight,
    digest: &str,
    verify: bool,
) -> Result<(), String> {
    let create = registry::CreateIpRightRequest {
        request_id: request_id("right", brand_id, digest),
        ip_right: Some(registry::IpRight {
            brand_id: brand_id.to_owned(),
            ..right
        }),
    };
    let right = patiently(|| {
        let (mut client, request) = (client.clone(), create.clone());
        async move { client.create_ip_right(request).await }
    })
    .await
    .map_err(status)
    .map_err(|error| error.to_string())?
    .ip_right
    .unwrap_or_default();
    if !verify || right.verification_status() != registry::VerificationStatus::Pending {
        return Ok(());
    }
    // Only the version read is verified (its etag): a retry after a lost answer is refused
    // as a conflict, and is no error if the right is verified.
    let verify = registry::VerifyIpRightRequest {
        id: right.id.clone(),
        etag: right.etag.clone(),
        note: "verified on import".to_owned(),
    };
    match patiently(|| {
        let (mut client, request) = (client.clone(), verify.clone());
        async move { client.verify_ip_right(request).await }
    })
    .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.code() == tonic::Code::Aborted => {
            let read = registry::GetIpRightRequest {
                id: right.id.clone(),
            };
            let now = patiently(|| {
                let (mut client, request) = (client.clone(), read.clone());
                async move { client.get_ip_right(request).await }
            })
            .await
            .map(|answer| answer.ip_right.unwrap_or_default().verification_status());
            match now {
                Ok(registry::VerificationStatus::Verified) => Ok(()),
                _ => Err(format!(
                    "verifying: it changed meanwhile: {}",
                    status(error)
                )),
            }
        }
        Err(error) => Err(format!("verifying: {}", status(error))),
    }
}

/// Adds sellers to a brand's authorised sellers, keeping those it has: read, add what is
/// missing, write back under the etag read, and read again if the brand changed meanwhile.
async fn add_sellers(client: &Client, brand_id: &str, sellers: Vec<String>) -> Result<(), String> {
    let read = registry::GetBrandRequest {
        id: brand_id.to_owned(),
    };
    for _ in 0..MAX_ROUNDS {
        let brand = patiently(|| {
            let (mut client, request) = (client.clone(), read.clone());
            async move { client.get_brand(request).await }
        })
        .await
        .map_err(|error| format!("brand: {}", status(error)))?
        .brand
        .unwrap_or_default();
        let Some(authorized_seller_ids) = with_sellers(&brand.authorized_seller_ids, &sellers)
        else {
            return Ok(());
        };
        let update = registry::UpdateBrandRequest {
            brand: Some(registry::Brand {
                id: brand.id,
                etag: brand.etag,
                authorized_seller_ids,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["authorized_seller_ids".to_owned()],
            }),
        };
        // Repeating the update under the same etag is refused as a conflict, never applied
        // twice; the next round then finds the sellers there.
        match patiently(|| {
            let (mut client, request) = (client.clone(), update.clone());
            async move { client.update_brand(request).await }
        })
        .await
        {
            Ok(_) => return Ok(()),
            Err(error) if error.code() == tonic::Code::Aborted => continue,
            Err(error) => return Err(format!("authorised sellers: {}", status(error))),
        }
    }
    Err(format!(
        "authorised sellers: the brand changed under each of {MAX_ROUNDS} tries; run again"
    ))
}

/// The brand's sellers with `more` added in the order given, or None when none is new.
fn with_sellers(have: &[String], more: &[String]) -> Option<Vec<String>> {
    let mut known: std::collections::HashSet<&str> = have.iter().map(String::as_str).collect();
    let mut all = have.to_vec();
    for seller in more {
        if known.insert(seller) {
            all.push(seller.clone());
        }
    }
    (all.len() > have.len()).then_some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_dates_read_as_written() {
        let m = money("EUR 1200.5").unwrap();
        assert_eq!(
            (m.currency_code.as_str(), m.units, m.nanos),
            ("EUR", 1200, 500_000_000)
        );
        assert_eq!(money("USD 80").unwrap().nanos, 0);
        for bad in ["1200", "EUR twelve", "EUR 1.2.3", "EUR 1.0000000001"] {
            assert!(money(bad).is_err(), "{bad}");
        }
        assert_eq!(date("2026-02-28").unwrap().unwrap().day, 28);
        assert!(date("2026-02-30").is_err());
        assert!(date("").unwrap().is_none());
    }

    #[test]
    fn rows_that_differ_only_in_where_a_field_ends_are_different_rows() {
        let row = |fields: &[&str]| row_digest(&csv::StringRecord::from(fields.to_vec()));
        assert_ne!(row(&["ab", "c"]), row(&["a", "bc"]));
        assert_eq!(row(&["ab", "c"]), row(&["ab", "c"]));
    }

    #[test]
    fn a_row_means_the_same_request_ids_every_time() {
        let a = request_id("brand", "mbr_1", "abc");
        assert_eq!(a, request_id("brand", "mbr_1", "abc"));
        assert_ne!(a, request_id("brand", "mbr_2", "abc"));
        assert_ne!(a, request_id("right", "mbr_1", "abc"));
        assert!(assay_common::validate::request_id(&a).unwrap().is_some());
    }

    #[test]
    fn sellers_already_there_are_not_added_again() {
        let have = ["s1".to_owned(), "s2".to_owned()];
        let more = |m: &[&str]| m.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(with_sellers(&have, &more(&["s2", "s1"])), None);
        assert_eq!(
            with_sellers(&have, &more(&["s3", "s2", "s3", "s4"])),
            Some(more(&["s1", "s2", "s3", "s4"]))
        );
        assert_eq!(with_sellers(&[], &more(&["s1"])), Some(more(&["s1"])));
    }

    fn fields(header: &[&str], row: &[&str], parse: impl Fn(&Fields) -> anyhow::Result<()>) {
        let (headers, record) = (
            csv::StringRecord::from(header.to_vec()),
            csv::StringRecord::from(row.to_vec()),
        );
        parse(&Fields {
            headers: &headers,
            record: &record,
        })
        .unwrap();
    }

    #[test]
    fn a_right_row_names_its_kind_or_is_a_trade_mark() {
        let header = [
            "brand_id",
            "kind",
            "registration_number",
            "office",
            "nice_classes",
        ];
        fields(
            &header,
            &["brd_1", "", "018900001", "euipo", "18; 25"],
            |f| {
                let row = right_row(f)?;
                assert_eq!(row.brand_id, "brd_1");
                assert_eq!(row.right.kind(), registry::IpRightKind::Trademark);
                assert_eq!(row.right.office(), registry::IpOffice::Euipo);
                assert_eq!(row.right.nice_classes, [18, 25]);
                Ok(())
            },
        );
        fields(
            &header,
            &["brd_1", "design-patent", "D1", "USPTO", ""],
            |f| {
                assert_eq!(
                    right_row(f)?.right.kind(),
                    registry::IpRightKind::DesignPatent
                );
                Ok(())
            },
        );
        for (row, reason) in [
            (["", "", "1", "EUIPO", ""], "brand_id is empty"),
            (
                ["brd_1", "", "", "EUIPO", ""],
                "registration_number is empty",
            ),
            (["brd_1", "moon", "1", "EUIPO", ""], "kind"),
            (["brd_1", "", "1", "", ""], "office is empty"),
            (["brd_1", "", "1", "EUIPO", "eighteen"], "nice_classes"),
        ] {
            fields(&header, &row, |f| {
                let error = format!("{:#}", right_row(f).err().expect("refused"));
                assert!(error.contains(reason), "{row:?}: {error}");
                Ok(())
            });
        }
    }

    #[test]
    fn a_seller_row_needs_both_ids() {
        let header = ["brand_id", "seller_id"];
        for (row, said) in [
            (["brd_1", "s-9"], None),
            (["", "s-9"], Some("brand_id is empty")),
            (["brd_1", ""], Some("seller_id is empty")),
        ] {
            fields(&header, &row, |f| {
                match (seller_row(f), said) {
                    (Ok(row), None) => assert_eq!(
                        (row.brand_id.as_str(), row.seller_id.as_str()),
                        ("brd_1", "s-9")
                    ),
                    (Err(error), Some(said)) => assert!(error.to_string().contains(said)),
                    (other, _) => panic!("{row:?}: {:?}", other.map(|r| r.seller_id)),
                }
                Ok(())
            });
        }
    }
}
