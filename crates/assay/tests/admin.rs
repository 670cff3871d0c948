//! `assay admin` against a real `assay serve`: from a spreadsheet of brands to a screened
//! listing with nothing but the command line, a rerun that resumes, refused rows reported
//! with their reasons, figures as JSON, and health as a container would ask it.

use std::path::Path;
use std::process::{Command, Output};

use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_proto::screening::v1::{Listing, ScreenListingRequest};

mod common;
use common::{Process, authed, eur};

fn admin(server: &Process, dir: &Path, args: &[&str]) -> Output {
    admin_in(server, dir, args, "C.UTF-8")
}

/// `assay admin` in the locale `lang` (`LANG`).
fn admin_in(server: &Process, dir: &Path, args: &[&str], lang: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assay"))
        .arg("admin")
        .args(["--server", &server.endpoint()])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .current_dir(dir)
        .env_remove("ASSAY_CONFIG")
        .env_remove("ASSAY_ADMIN_TOKEN")
        .env_remove("ASSAY_ADMIN_SERVER")
        .env_remove("ASSAY_LANGUAGE")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .output()
        .expect("run assay admin")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn brands_csv(dir: &Path, member: &str) -> std::path::PathBuf {
    let mut csv = String::from(
        "name,member_id,aliases,categories,reference_prices,registration_number,office,nice_classes,valid_from,valid_until\n",
    );
    for i in 0..40 {
        let name = format!(
            "Quorvel{}",
            char::from(b'a' + (i % 26) as u8)
                .to_string()
                .repeat(1 + i / 26)
        );
        csv.push_str(&format!(
            "{name},{member},,handbags;shoes,handbags=EUR 900,0189{i:05},EUIPO,18;25,2020-01-01,2035-01-01\n"
        ));
    }
    // Refused before it is sent: not an amount.
    csv.push_str(&format!(
        "Brokenprice,{member},,handbags,handbags=EURO,,,,,\n"
    ));
    // Refused by the server: a brand needs a name.
    csv.push_str(&format!(",{member},,handbags,,,,,,\n"));
    // A field too many.
    csv.push_str(&format!("Toomany,{member},,handbags,,,,,,,extra\n"));
    let path = dir.join("brands.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_spreadsheet_of_brands_to_a_screened_listing() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Process::new("serve", &["all"], dir.path(), Vec::new());
    server.start();
    server
        .wait_serving(&[
            "assay.registry.v1.RegistryService",
            "assay.screening.v1.ScreeningService",
        ])
        .await;

    let health = admin(&server, dir.path(), &["health"]);
    assert!(health.status.success(), "{}", text(&health.stderr));
    assert_eq!(text(&health.stdout).matches("SERVING").count(), 4);
    // The server named in the environment, which the configuration leaves alone.
    let health = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(["admin", "health", "registry"])
        .env("ASSAY_ADMIN_SERVER", server.endpoint())
        .env("ASSAY_ADMIN_TOKEN", "not-needed-for-health")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(health.status.success(), "{}", text(&health.stderr));
    assert_eq!(text(&health.stdout).trim(), "registry         SERVING");

    let created = admin(
        &server,
        dir.path(),
        &[
            "--format",
            "csv",
            "member",
            "create",
            "--name",
            "Quorvel SpA",
            "--country",
            "IT",
            "--email",
            "ip@quorvel.example",
            "--activate",
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let shown = text(&created.stdout);
    let field = |name: &str| {
        shown
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name},")))
            .unwrap_or_else(|| panic!("no {name} in {shown}"))
            .to_owned()
    };
    let member = field("id");
    assert_eq!(field("status"), "MEMBER_STATUS_ACTIVE");

    let csv = brands_csv(dir.path(), &member);
    let rejected = dir.path().join("brands.rejected.csv");
    for run in ["first", "again"] {
        let import = admin(
            &server,
            dir.path(),
            &["import", "brands", csv.to_str().unwrap(), "--verify"],
        );
        assert!(
            !import.status.success(),
            "{run}: refused rows fail the command"
        );
        let said = text(&import.stdout);
        assert!(
            said.contains("43 rows: 40 imported (or already there), 3 refused"),
            "{run}: {said}{}",
            text(&import.stderr)
        );
        let reasons = std::fs::read_to_string(&rejected).unwrap();
        let lines: Vec<&str> = reasons.lines().collect();
        assert_eq!(lines[0], "line,name,reason");
        assert!(
            lines[1].starts_with("42,Brokenprice,") && lines[1].contains("reference_prices"),
            "{reasons}"
        );
        assert!(
            lines[2].starts_with("43,,brand: InvalidArgument") && lines[2].contains("name"),
            "{reasons}"
        );
        assert!(
            lines[3].starts_with("44,,") && lines[3].contains("fields"),
            "{reasons}"
        );
    }

    // The rerun added nothing: forty brands, each protected by its verified trade mark.
    let figures = admin(&server, dir.path(), &["--format", "json", "figures"]);
    assert!(figures.status.success(), "{}", text(&figures.stderr));
    let figures: serde_json::Value = serde_json::from_slice(&figures.stdout).unwrap();
    assert_eq!(figures["alliance"]["brands_represented"], 40);
    assert_eq!(figures["alliance"]["protected_brands"], 40);
    assert_eq!(figures["alliance"]["verified_rights"], 40);
    assert_eq!(figures["enforcement"]["arrests"], 0);

    // The programme's year so far, as JSON and as CSV.
    let today = chrono::Utc::now().date_naive();
    let (from, until) = (
        (today - chrono::Days::new(364)).to_string(),
        today.to_string(),
    );
    let year = ["report", "--from", from.as_str(), "--until", until.as_str()];
    let report = admin(
        &server,
        dir.path(),
        &[&["--format", "json"], &year[..]].concat(),
    );
    assert!(report.status.success(), "{}", text(&report.stderr));
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["alliance"]["brands_represented"], 40, "{report}");
    assert_eq!(report["notices"]["filed"], 0, "{report}");
    assert_eq!(report["requests"]["received"], 0, "{report}");
    let report = admin(
        &server,
        dir.path(),
        &[&["--format", "csv"], &year[..]].concat(),
    );
    let rows = text(&report.stdout);
    assert!(rows.starts_with("label,value,field\n"), "{rows}");
    for row in [
        "Alliance: brands with verified rights,40,alliance.protected_brands",
        "Proactive removals: listings taken down,0,proactive.listings_taken_down",
        "Referrals: arrests,0,referrals.arrests",
        "Requests for information: answered,0,requests.answered",
    ] {
        assert!(rows.lines().any(|l| l == row), "{row} in {rows}");
    }
    // The same report in Simplified Chinese, asked for by flag or by the locale.
    for (flags, lang) in [
        (&["--language", "zh-Hans"][..], "C.UTF-8"),
        (&[][..], "zh_CN.UTF-8"),
    ] {
        let report = admin_in(
            &server,
            dir.path(),
            &[flags, &["--format", "csv"], &year[..]].concat(),
            lang,
        );
        let rows = text(&report.stdout);
        assert!(rows.starts_with("项目,数值,字段\n"), "{rows}");
        assert!(
            rows.lines()
                .any(|l| l == "联盟：已核实权利的品牌,40,alliance.protected_brands"),
            "{rows}"
        );
    }
    let french = admin(
        &server,
        dir.path(),
        &[&["--language", "fr"], &year[..]].concat(),
    );
    assert!(!french.status.success());
    assert!(
        text(&french.stderr).contains("zh-Hans"),
        "{}",
        text(&french.stderr)
    );
    let backwards = admin(
        &server,
        dir.path(),
        &["report", "--from", until.as_str(), "--until", from.as_str()],
    );
    assert!(!backwards.status.success());
    assert!(text(&backwards.stderr).contains("--from is after --until"));

    // An agency registered and let in, as legal staff would.
    let agency = admin(
        &server,
        dir.path(),
        &[
            "--format",
            "json",
            "agency",
            "create",
            "--name",
            "Garda Síochána",
            "--country",
            "IE",
            "--domain",
            "garda.ie",
            "--email",
            "duty@garda.ie",
            "--activate",
        ],
    );
    assert!(agency.status.success(), "{}", text(&agency.stderr));
    let agency: serde_json::Value = serde_json::from_slice(&agency.stdout).unwrap();
    assert_eq!(agency["status"], "AGENCY_STATUS_ACTIVE", "{agency}");
    let agencies = admin(&server, dir.path(), &["--format", "csv", "agency", "list"]);
    let listed = text(&agencies.stdout);
    assert!(
        listed.contains(agency["id"].as_str().unwrap()) && listed.contains("Garda Síochána"),
        "{listed}"
    );

    let audit = admin(&server, dir.path(), &["audit", "verify"]);
    assert!(audit.status.success(), "{}", text(&audit.stderr));
    assert!(text(&audit.stdout).contains("valid                  true"));

    // Rights and authorised sellers of the brands just imported, by the ids `brand list`
    // shows; a brand that is not there is refused, by row, and a rerun changes nothing.
    let listed = admin(&server, dir.path(), &["--format", "csv", "brand", "list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    let brand = listed
        .lines()
        .find(|l| l.contains(",Quorvelc,"))
        .and_then(|l| l.split(',').next())
        .unwrap_or_else(|| panic!("no Quorvelc in {listed}"))
        .to_owned();
    assert_eq!(
        listed.lines().count(),
        41,
        "a header and forty brands: {listed}"
    );
    let rights = dir.path().join("rights.csv");
    std::fs::write(
        &rights,
        format!(
            "brand_id,kind,registration_number,office,nice_classes,valid_from,valid_until\n\
             {brand},design-patent,D987654,USPTO,,2021-03-01,2036-03-01\n\
             brd_00000000000000000000000000000000,trademark,018999999,EUIPO,25,2021-03-01,2036-03-01\n"
        ),
    )
    .unwrap();
    let sellers = dir.path().join("sellers.csv");
    std::fs::write(
        &sellers,
        format!(
            "brand_id,seller_id\n{brand},seller-authorised\n{brand},seller-outlet\n\
             {brand},seller-authorised\nbrd_00000000000000000000000000000000,seller-x\n{brand},\n"
        ),
    )
    .unwrap();
    for run in ["first", "again"] {
        let import = admin(
            &server,
            dir.path(),
            &["import", "rights", rights.to_str().unwrap(), "--verify"],
        );
        let said = text(&import.stdout);
        assert!(
            !import.status.success()
                && said.contains("2 rows: 1 imported (or already there), 1 refused"),
            "{run}: {said}{}",
            text(&import.stderr)
        );
        let reasons = std::fs::read_to_string(dir.path().join("rights.rejected.csv")).unwrap();
        assert!(reasons.contains("3,018999999,NotFound"), "{run}: {reasons}");

        let import = admin(
            &server,
            dir.path(),
            &["import", "sellers", sellers.to_str().unwrap()],
        );
        let said = text(&import.stdout);
        assert!(
            !import.status.success()
                && said.contains("5 rows: 3 imported (or already there), 2 refused"),
            "{run}: {said}{}",
            text(&import.stderr)
        );
        let reasons = std::fs::read_to_string(dir.path().join("sellers.rejected.csv")).unwrap();
        let lines: Vec<&str> = reasons.lines().collect();
        assert!(
            lines[1].starts_with("5,seller-x,brand: NotFound"),
            "{run}: {reasons}"
        );
        assert!(
            lines[2].starts_with("6,,seller_id is empty"),
            "{run}: {reasons}"
        );
    }
    let shown = admin(
        &server,
        dir.path(),
        &["--format", "csv", "right", "list", "--brand", &brand],
    );
    let shown = text(&shown.stdout);
    assert_eq!(shown.lines().count(), 3, "two rights, each once: {shown}");
    assert!(
        shown.contains(
            "IP_RIGHT_KIND_DESIGN_PATENT,IP_OFFICE_USPTO,D987654,VERIFICATION_STATUS_VERIFIED"
        ),
        "{shown}"
    );
    let token = std::fs::read_to_string(dir.path().join("data/bootstrap-token")).unwrap();
    let mut registry =
        assay_proto::registry::v1::registry_service_client::RegistryServiceClient::new(authed(
            server.channel().await,
            token.trim(),
        ));
    let sellers = registry
        .get_brand(assay_proto::registry::v1::GetBrandRequest { id: brand.clone() })
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap()
        .authorized_seller_ids;
    assert_eq!(sellers, ["seller-authorised", "seller-outlet"]);

    // An imported brand is screened at once (once the engine has it).
    common::wait_for_brands(&server, token.trim(), 40).await;
    // The catalogue as it is now, with the sellers imported: screening is asked to wait
    // for it.
    let revision = registry
        .get_catalogue(assay_proto::registry::v1::GetCatalogueRequest::default())
        .await
        .unwrap()
        .into_inner()
        .revision;
    let mut screening = ScreeningServiceClient::new(authed(server.channel().await, token.trim()));
    let mut screen = async |seller: &str| {
        screening
            .screen_listing(ScreenListingRequest {
                listing: Some(Listing {
                    listing_id: format!("lst-{seller}"),
                    seller_id: seller.to_owned(),
                    title: "Quorvelc replica handbag, 1:1 mirror quality".to_owned(),
                    category: "handbags".to_owned(),
                    price: Some(eur(45)),
                    ..Default::default()
                }),
                min_catalogue_revision: revision,
            })
            .await
            .unwrap()
            .into_inner()
    };
    let named = |verdict: &assay_proto::screening::v1::ScreenListingResponse| {
        let verdict = verdict.verdict.as_ref().unwrap();
        verdict.brands.iter().any(|b| b.brand_id == brand)
    };
    let verdict = screen("seller-1").await;
    assert!(
        !verdict.hit_id.is_empty() && named(&verdict),
        "the listing was not a hit for Quorvelc: {verdict:?}"
    );
    // An authorised seller's listing is not flagged for the brand (its counterfeit
    // vocabulary still counts).
    let verdict = screen("seller-outlet").await;
    assert!(
        !named(&verdict),
        "an authorised seller was flagged: {verdict:?}"
    );

    server.kill();
    let down = admin(&server, dir.path(), &["health"]);
    assert!(!down.status.success(), "health fails when nothing answers");
    assert!(
        text(&down.stderr).contains("not serving"),
        "{}",
        text(&down.stderr)
    );
}

/// `assay token revoke`: a minted token works, is revoked by its holder's operator, and is
/// refused by the running server within seconds; the revocation file names whom it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let revoked = dir.path().join("revoked-ids");
    // Configured, the file must be there (empty) before the server starts.
    std::fs::write(&revoked, "").unwrap();
    let env = (
        "ASSAY_AUTH__JWT__REVOKED_IDS_FILE",
        revoked.display().to_string(),
    );
    let mut server = Process::new(
        "serve",
        &["registry"],
        dir.path(),
        vec![(env.0.to_owned(), env.1.clone())],
    );
    server.start();
    server
        .wait_serving(&["assay.registry.v1.RegistryService"])
        .await;
    let assay = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env(env.0, &env.1)
            .env_remove("ASSAY_CONFIG")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let minted = assay(&["token", "mint", "staff:ann:admin", "--ttl", "1h"]);
    assert!(minted.status.success(), "{}", text(&minted.stderr));
    let token = text(&minted.stdout).trim().to_owned();
    let list = || admin(&server, dir.path(), &["--token", &token, "member", "list"]);
    assert!(list().status.success(), "{}", text(&list().stderr));

    let said = assay(&["token", "revoke", &token, "--reason", "laptop lost"]);
    assert!(said.status.success(), "{}", text(&said.stderr));
    assert!(
        text(&said.stdout).starts_with("revoked "),
        "{}",
        text(&said.stdout)
    );
    let listed = std::fs::read_to_string(&revoked).unwrap();
    assert!(
        listed.contains("staff ann, valid until") && listed.contains("laptop lost"),
        "{listed}"
    );
    let again = assay(&["token", "revoke", &token]);
    assert!(
        text(&again.stdout).contains("already revoked"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(&revoked).unwrap(),
        listed,
        "listed once"
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let answer = list();
        if !answer.status.success() {
            let error = text(&answer.stderr);
            assert!(error.contains("Unauthenticated"), "{error}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked token was still accepted after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Another token of the same key is unaffected.
    let other = assay(&["token", "mint", "staff:ann:admin", "--ttl", "1h"]);
    let other = text(&other.stdout).trim().to_owned();
    let answer = admin(&server, dir.path(), &["--token", &other, "member", "list"]);
    assert!(answer.status.success(), "{}", text(&answer.stderr));
}
