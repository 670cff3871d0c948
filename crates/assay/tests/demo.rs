//! `assay demo`, as a newcomer runs it: one command, a real process, a programme year
//! played through the public APIs, and the year's report on standard output.

use std::process::Command;

#[test]
fn the_demo_plays_a_year_and_prints_its_report() {
    let output = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args([
            "demo",
            "--members",
            "12",
            "--brands-per-member",
            "3",
            "--listings",
            "1200",
            "--notices",
            "40",
            "--agencies",
            "3",
            "--referrals",
            "6",
            "--requests",
            "10",
            "--format",
            "json",
        ])
        // Nothing of the environment's configuration: the demo's system is its own.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("assay demo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    let figure = |section: &str, name: &str| {
        report[section][name]
            .as_i64()
            .unwrap_or_else(|| panic!("{section}.{name} in {report}"))
    };
    assert_eq!(figure("alliance", "active_members"), 12);
    assert_eq!(figure("alliance", "brands_represented"), 36);
    assert_eq!(figure("alliance", "protected_brands"), 36);
    assert_eq!(figure("notices", "filed"), 40);
    assert_eq!(
        figure("notices", "upheld")
            + figure("notices", "rejected")
            + figure("notices", "overturned"),
        40,
        "every notice decided"
    );
    assert!(figure("notices", "counter_notices") >= 1);
    // One listing in forty is a counterfeit: about thirty alerts, most taken down.
    let alerts = figure("proactive", "screening_alerts");
    assert!((15..=60).contains(&alerts), "{alerts} alerts");
    assert!(figure("proactive", "listings_taken_down") > alerts / 2);
    assert_eq!(figure("referrals", "referred"), 6);
    assert!(figure("referrals", "arrests") > 0);
    assert_eq!(figure("requests", "received"), 10);
    assert!(figure("requests", "answered") > 0);
    assert!(figure("requests", "arrests") > 0);
    assert!(stderr.contains("through the public APIs"), "{stderr}");
}

#[test]
fn a_demo_without_agencies_or_beyond_its_names_is_refused_before_it_starts() {
    for args in [
        ["demo", "--agencies", "0"],
        ["demo", "--brands-per-member", "6"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .expect("assay demo runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("is not in"), "{args:?}: {stderr}");
    }
}
