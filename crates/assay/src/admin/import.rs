//! `assay admin import brands`: rows of a CSV file become brands and trade marks, each row
//! with request ids made from its content, so that the same file imports the same way again.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use assay_common::client::PeerChannel;
use assay_proto::common::v1::{Date, Money};
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use chrono::NaiveDate;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::print::emit;
use super::{enum_value, status};

/// The most rows one import takes; a larger spreadsheet is split.
const MAX_ROWS: usize = 1_000_000;

/// What an import does with each row.
pub(super) struct Import {
    pub(super) member: Option<String>,
    pub(super) verify: bool,
    pub(super) concurrency: usize,
}

/// A row of the brands file, as the server will be asked to record it.
struct BrandRow {
    line: u64,
    name: String,
    brand: registry::Brand,
    right: Option<registry::IpRight>,
    /// Identifies the row's content, for its request ids.
    digest: String,
}

/// How a row ended.
enum Outcome {
    Imported,
    Rejected {
        line: u64,
        name: String,
        reason: String,
    },
}

pub(super) async fn import_brands(
    channel: PeerChannel,
    file: &Path,
    rejected_path: &Path,
    options: &Import,
) -> anyhow::Result<()> {
    let rows = read_brand_rows(file, options.member.as_deref())?;
    let total = rows.len() as u64;
    let progress =
        indicatif::ProgressBar::new(total).with_style(indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows  {per_sec}  {eta} left  {msg}",
        )?);
    let client = RegistryServiceClient::new(channel);
    let mut outcomes = futures::stream::iter(rows)
        .map(|row| {
            let client = &client;
            async move {
                match row {
                    Ok(row) => import_row(client, row, options.verify).await,
                    Err(rejected) => rejected,
                }
            }
        })
        .buffer_unordered(options.concurrency);
    let (mut imported, mut rejected) = (0u64, Vec::new());
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Outcome::Imported => imported += 1,
            Outcome::Rejected { line, name, reason } => {
                rejected.push((line, name, reason));
                progress.set_message(format!("{} refused", rejected.len()));
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    rejected.sort();
    if rejected.is_empty() {
        let _ = std::fs::remove_file(rejected_path);
    } else {
        let mut out = csv::Writer::from_path(rejected_path)
            .with_context(|| format!("writing {}", rejected_path.display()))?;
        out.write_record(["line", "name", "reason"])?;
        for (line, name, reason) in &rejected {
            out.write_record([line.to_string().as_str(), name, reason])?;
        }
        out.flush()?;
    }
    emit(&format!(
        "{total} rows: {imported} imported (or already there), {} refused{}\n",
        rejected.len(),
        if rejected.is_empty() {
            String::new()
        } else {
            format!(", with the reasons in {}", rejected_path.display())
        }
    ))?;
    if rejected.is_empty() {
        Ok(())
    } else {
        bail!("{} rows were refused", rejected.len())
    }
}

/// Every row of the file, each either ready to send or refused with its reason.
fn read_brand_rows(
    file: &Path,
    member: Option<&str>,
) -> anyhow::Result<Vec<Result<BrandRow, Outcome>>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let headers = reader.headers()?.clone();
    const KNOWN: [&str; 12] = [
        "name",
        "member_id",
        "aliases",
        "categories",
        "authorized_sellers",
        "reference_prices",
        "registration_number",
        "office",
        "nice_classes",
        "valid_from",
        "valid_until",
        "mark_text",
    ];
    if let Some(unknown) = headers.iter().find(|h| !KNOWN.contains(h)) {
        bail!(
            "{}: unknown column {unknown:?}; the columns are {}",
            file.display(),
            KNOWN.join(", ")
        );
    }
    if !headers.iter().any(|h| h == "name") {
        bail!("{}: the header has no `name` column", file.display());
    }
    if member.is_none() && !headers.iter().any(|h| h == "member_id") {
        bail!("{}: give --member or a `member_id` column", file.display());
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        if rows.len() == MAX_ROWS {
            bail!("{}: more than {MAX_ROWS} rows; split it", file.display());
        }
        let record = match record {
            Ok(record) => record,
            // A malformed row (a field too many, bytes not UTF-8) is that row's problem.
            Err(error) if error.position().is_some() => {
                rows.push(Err(Outcome::Rejected {
                    line: error.position().map_or(0, |p| p.line()),
                    name: String::new(),
                    reason: error.to_string(),
                }));
                continue;
            }
            Err(error) => return Err(error).with_context(|| format!("reading {}", file.display())),
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
        };
        let name = field("name").to_owned();
        rows.push(
            brand_row(&field, member)
                .map_err(|error| Outcome::Rejected {
                    line,
                    name: name.clone(),
                    reason: format!("{error:#}"),
                })
                .map(|(brand, right)| BrandRow {
                    line,
                    name,
                    brand,
                    right,
                    digest: row_digest(&record),
                }),
        );
    }
    Ok(rows)
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

fn brand_row<'a>(
    field: &impl Fn(&str) -> &'a str,
    member: Option<&str>,
) -> anyhow::Result<(registry::Brand, Option<registry::IpRight>)> {
    let list = |name: &str| -> Vec<String> {
        field(name)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let member_id = match (member, field("member_id")) {
        (Some(member), "") => member.to_owned(),
        (Some(member), column) if column == member => member.to_owned(),
        (Some(_), column) => bail!("member_id {column:?} differs from --member"),
        (None, "") => bail!("member_id is empty"),
        (None, column) => column.to_owned(),
    };
    let reference_prices = list("reference_prices")
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
        name: field("name").to_owned(),
        aliases: list("aliases"),
        categories: list("categories"),
        reference_prices,
        authorized_seller_ids: list("authorized_sellers"),
        ..Default::default()
    };
    let registration = field("registration_number");
    let right = if registration.is_empty() {
        None
    } else {
        let office = match field("office") {
            "" => bail!("office is empty, though registration_number is set"),
            office => enum_value(office, "IP_OFFICE_", registry::IpOffice::from_str_name)
                .context("office")?,
        };
        let nice_classes = list("nice_classes")
            .iter()
            .map(|c| {
                c.parse::<i32>()
                    .with_context(|| format!("nice_classes: {c:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Some(registry::IpRight {
            kind: registry::IpRightKind::Trademark as i32,
            office: office as i32,
            registration_number: registration.to_owned(),
            nice_classes,
            valid_from: date(field("valid_from")).context("valid_from")?,
            valid_until: date(field("valid_until")).context("valid_until")?,
            mark_text: field("mark_text").to_owned(),
            ..Default::default()
        })
    };
    Ok((brand, right))
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

async fn import_row(
    client: &RegistryServiceClient<PeerChannel>,
    row: BrandRow,
    verify: bool,
) -> Outcome {
    let refused = |reason: String| Outcome::Rejected {
        line: row.line,
        name: row.name.clone(),
        reason,
    };
    let create = registry::CreateBrandRequest {
        request_id: request_id("brand", &row.brand.member_id, &row.digest),
        brand: Some(row.brand.clone()),
    };
    let brand = match patiently(|| {
        let (mut client, request) = (client.clone(), create.clone());
        async move { client.create_brand(request).await }
    })
    .await
    {
        Ok(answer) => answer.brand.unwrap_or_default(),
        Err(error) => return refused(format!("brand: {}", status(error))),
    };
    let Some(right) = row.right.clone() else {
        return Outcome::Imported;
    };
    let create = registry::CreateIpRightRequest {
        request_id: request_id("right", &brand.id, &row.digest),
        ip_right: Some(registry::IpRight {
            brand_id: brand.id.clone(),
            ..right
        }),
    };
    let right = match patiently(|| {
        let (mut client, request) = (client.clone(), create.clone());
        async move { client.create_ip_right(request).await }
    })
    .await
    {
        Ok(answer) => answer.ip_right.unwrap_or_default(),
        Err(error) => return refused(format!("trade mark: {}", status(error))),
    };
    if verify && right.verification_status() == registry::VerificationStatus::Pending {
        // Only the version read is verified (its etag): a retry after a lost answer is
        // refused as a conflict, and is no error if the right is verified.
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
            Ok(_) => {}
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
                if !matches!(now, Ok(registry::VerificationStatus::Verified)) {
                    return refused(format!(
                        "verifying the trade mark: it changed meanwhile: {}",
                        status(error)
                    ));
                }
            }
            Err(error) => return refused(format!("verifying the trade mark: {}", status(error))),
        }
    }
    Outcome::Imported
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
}
