//! The `assay` command line with secrets: minting never creates keys and refuses tokens that
//! live too long, `assay config` shows no password, and generated keys are private.

use std::path::Path;
use std::process::{Command, Output};

fn assay(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(dir)
        .env_remove("ASSAY_CONFIG")
        .output()
        .expect("run assay")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn minting_without_a_key_creates_nothing_and_says_what_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = assay(
        &["token", "mint", "staff:ann:admin", "--data-dir", "data"],
        dir.path(),
    );
    assert!(!out.status.success(), "no key, no token");
    let error = text(&out.stderr);
    assert!(error.contains("no signing key"), "{error}");
    assert!(error.contains("no configuration file"), "{error}");
    assert!(text(&out.stdout).is_empty(), "no token printed");
    assert!(!dir.path().join("data").exists(), "nothing created");
}

#[test]
fn minted_tokens_live_no_longer_than_their_principal_may() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let platform = assay_common::config::PlatformConfig {
        data_dir: data.clone(),
        ..Default::default()
    };
    // What a first `assay serve` creates.
    assay_common::Platform::init(platform).unwrap();

    let out = assay(
        &[
            "token",
            "mint",
            "staff:ann:admin",
            "--ttl",
            "100years",
            "--data-dir",
            "data",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("at most"),
        "{}",
        text(&out.stderr)
    );

    let out = assay(
        &["token", "mint", "member:mbr_1", "--data-dir", "data"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim().matches('.').count(), 2, "a JWT");
    assert!(text(&out.stderr).contains("signed with key \"local\""));
    #[cfg(unix)]
    {
        assert_eq!(mode(&data), 0o700);
        for entry in std::fs::read_dir(&data).unwrap() {
            let file = entry.unwrap().path();
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
}

#[test]
fn the_printed_configuration_hides_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .arg("config")
        .env_remove("ASSAY_CONFIG")
        .env(
            "ASSAY_CASES__DATABASE_URL",
            "postgres://assay:hunter2@db:5432/cases",
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(
        printed.contains("postgres://assay:***@db:5432/cases"),
        "{printed}"
    );
}

#[test]
fn keygen_writes_a_private_key_and_the_configuration_that_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = assay(
        &[
            "token",
            "keygen",
            "--kid",
            "screening-2026",
            "--principal",
            "service:screening",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("signing_key_principals = [\"service:screening\"]"),
        "{printed}"
    );
    let private = dir.path().join("screening-2026.pem");
    assert!(
        std::fs::read_to_string(&private)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    #[cfg(unix)]
    assert_eq!(mode(&private), 0o600);
    let again = assay(&["token", "keygen", "--kid", "screening-2026"], dir.path());
    assert!(!again.status.success(), "never overwrites a key");
}

#[test]
fn migrate_status_says_what_is_pending_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["migrate", "--status", "registry", "--data-dir", "data"];
    let before = assay(&args, dir.path());
    assert!(
        !before.status.success(),
        "pending migrations fail the check"
    );
    let listed = text(&before.stdout);
    assert!(listed.lines().count() > 3, "{listed}");
    assert!(listed.lines().all(|l| l.contains("pending")), "{listed}");
    assert!(text(&before.stderr).contains("run `assay migrate`"));
    // Asking changed nothing: still all pending.
    let again = assay(&args, dir.path());
    assert_eq!(text(&again.stdout), listed);

    let migrated = assay(&["migrate", "registry", "--data-dir", "data"], dir.path());
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let after = assay(&args, dir.path());
    assert!(after.status.success(), "{}", text(&after.stderr));
    let listed = text(&after.stdout);
    assert!(listed.lines().all(|l| l.contains("applied")), "{listed}");
}
