//! The programme's figures and reports: `assay admin figures`, `report` (also printed by
//! `assay demo`) and `transparency-report`, each figure of the programme's report labelled
//! in the language of the command.

use anyhow::Context;
use assay_common::client::PeerChannel;
use assay_common::language;
use assay_proto::cases::v1 as cases;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::common::v1::TimeRange;
use assay_proto::lawenforcement::v1 as le;
use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use chrono::NaiveDate;

use super::print::{dynamic, print_labelled_sections, print_message, print_sections};
use super::{Format, status};

pub(super) async fn figures(channel: PeerChannel, format: Format) -> anyhow::Result<()> {
    let alliance = RegistryServiceClient::new(channel.clone())
        .get_alliance_figures(registry::GetAllianceFiguresRequest::default())
        .await
        .map_err(status)?
        .into_inner();
    let enforcement = CasesServiceClient::new(channel)
        .get_enforcement_figures(cases::GetEnforcementFiguresRequest::default())
        .await
        .map_err(status)?
        .into_inner();
    print_sections(
        format,
        &[
            (
                "alliance",
                dynamic("assay.registry.v1.GetAllianceFiguresResponse", &alliance)?,
            ),
            (
                "enforcement",
                dynamic("assay.cases.v1.GetEnforcementFiguresResponse", &enforcement)?,
            ),
        ],
    )
}

/// The days `from` to `until`, both included, as a time range (UTC).
fn days(from: NaiveDate, until: NaiveDate) -> anyhow::Result<TimeRange> {
    anyhow::ensure!(from <= until, "--from is after --until");
    let midnight = |day: NaiveDate| {
        assay_common::time::to_timestamp(day.and_time(chrono::NaiveTime::MIN).and_utc())
    };
    let end = until.succ_opt().context("--until is too late")?;
    Ok(TimeRange {
        start_time: Some(midnight(from)),
        end_time: Some(midnight(end)),
    })
}

pub(super) async fn report(
    channel: PeerChannel,
    format: Format,
    from: NaiveDate,
    until: NaiveDate,
) -> anyhow::Result<()> {
    let report = CasesServiceClient::new(channel)
        .get_programme_report(cases::GetProgrammeReportRequest {
            period: Some(days(from, until)?),
        })
        .await
        .map_err(status)?
        .into_inner();
    print_report(report, format)
}

assay_common::catalogue!(
    /// The command line's words, in English and Simplified Chinese (`crates/assay/locales`).
    pub(crate) static CATALOGUE
);

/// The programme's report: as JSON, whole; as a table or CSV, a section at a time, each
/// figure labelled in the language of the command ([`language::current`]).
pub(crate) fn print_report(
    report: cases::GetProgrammeReportResponse,
    format: Format,
) -> anyhow::Result<()> {
    let language = language::current();
    if format == Format::Json {
        return print_message(format, "assay.cases.v1.GetProgrammeReportResponse", &report);
    }
    let mut sections = vec![
        (
            "alliance",
            dynamic(
                "assay.cases.v1.ProgrammeAlliance",
                &report.alliance.unwrap_or_default(),
            )?,
        ),
        (
            "proactive",
            dynamic(
                "assay.cases.v1.ProgrammeRemovals",
                &report.proactive.unwrap_or_default(),
            )?,
        ),
        (
            "notices",
            dynamic(
                "assay.cases.v1.ProgrammeNotices",
                &report.notices.unwrap_or_default(),
            )?,
        ),
        (
            "referrals",
            dynamic(
                "assay.cases.v1.ProgrammeReferrals",
                &report.referrals.unwrap_or_default(),
            )?,
        ),
    ];
    if let Some(requests) = &report.requests {
        sections.push((
            "requests",
            dynamic("assay.cases.v1.ProgrammeRequests", requests)?,
        ));
    }
    let say = |id: &str| CATALOGUE.text(language, id);
    print_labelled_sections(
        format,
        &sections,
        |field| say(&format!("report-{}", field.replacen('.', "-", 1))),
        [
            &say("report-column-field"),
            &say("report-column-label"),
            &say("report-column-value"),
        ],
    )
}

pub(super) async fn transparency_report(
    channel: PeerChannel,
    format: Format,
    from: NaiveDate,
    until: NaiveDate,
) -> anyhow::Result<()> {
    let report = LawEnforcementServiceClient::new(channel)
        .get_transparency_report(le::GetTransparencyReportRequest {
            period: Some(days(from, until)?),
        })
        .await
        .map_err(status)?
        .into_inner();
    print_message(
        format,
        "assay.lawenforcement.v1.GetTransparencyReportResponse",
        &report,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::parse_language;
    use assay_common::language::Language;

    #[test]
    fn every_figure_of_the_report_is_labelled_in_both_languages() {
        let sections = [
            ("alliance", "assay.cases.v1.ProgrammeAlliance"),
            ("proactive", "assay.cases.v1.ProgrammeRemovals"),
            ("notices", "assay.cases.v1.ProgrammeNotices"),
            ("referrals", "assay.cases.v1.ProgrammeReferrals"),
            ("requests", "assay.cases.v1.ProgrammeRequests"),
        ];
        let pool = prost_reflect::DescriptorPool::decode(assay_proto::FILE_DESCRIPTOR_SET).unwrap();
        for (section, name) in sections {
            for field in pool.get_message_by_name(name).unwrap().fields() {
                let id = format!("report-{section}-{}", field.name());
                for language in Language::ALL {
                    let label = CATALOGUE.text(language, &id);
                    assert_ne!(label, id, "{} has no label for {id}", language.tag());
                }
            }
        }
        assert_eq!(
            CATALOGUE.text(Language::SimplifiedChinese, "report-referrals-arrests"),
            "移送：逮捕人数"
        );
        assert_eq!(parse_language("zh-CN"), Ok(Language::SimplifiedChinese));
        assert!(parse_language("fr").unwrap_err().contains("\"fr\""));
    }
}
