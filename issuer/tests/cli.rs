//! The authority's operations as `vaxpass-issuer` subcommands on the key file and the store,
//! without a running server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::{enrol, wallet, Env};

on_both_backends!(operations_on_the_files);

fn operations_on_the_files(env: &Env) {
    let out = env.cli_ok(&["init", "--issuer", "KR"]);
    assert!(
        out.contains("published trust list #1 and revocation list #1"),
        "{out}"
    );
    // init again keeps the authority and publishes anew.
    let out = env.cli_ok(&["init"]);
    assert!(
        out.contains("already holds an authority, kept") && out.contains("#2"),
        "{out}"
    );
    let root = env.cli_ok(&["root-key"]);
    assert_eq!(root.trim(), hex::encode(env.root_public_key()));

    // A generated code is printed once; a bad entry is refused with the reason, not the input.
    let out = env.cli_ok(&[
        "registry",
        "add",
        "--name",
        "Kim Minjun",
        "--birth-date",
        "1985-03-14",
        "--dose",
        &common::dose(1, 60),
        "--dose",
        &common::dose(2, 30),
        "--test",
        "pcr:negative:2021-12-13T08:00:00Z",
    ]);
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: "))
        .unwrap()
        .to_owned();
    assert!(out.contains("2 pass(es)"), "{out}");
    for bad in [
        vec!["--dose", "pfizer:1/2:2021-06-20"],
        vec![
            "--dose",
            "comirnaty:1/2:2021-06-20",
            "--code",
            "KR-483920-1137",
        ],
        vec![],
    ] {
        let mut args = vec![
            "registry",
            "add",
            "--name",
            "Secret Name",
            "--birth-date",
            "1985-03-14",
        ];
        args.extend(bad);
        let failed = env.cli(&args);
        assert!(!failed.status.success());
        assert!(!String::from_utf8_lossy(&failed.stderr).contains("Secret Name"));
    }
    let duplicate = env.cli(&[
        "registry",
        "add",
        "--name",
        "Other",
        "--birth-date",
        "1985-03-14",
        "--dose",
        "comirnaty:1/2:2021-06-20",
        "--code",
        &code,
    ]);
    assert!(
        !duplicate.status.success(),
        "a code is registered once per date of birth"
    );

    let csv = env.dir.path().join("bad.csv");
    std::fs::write(&csv, "code,name,birth_date,events\nKR-1-2,x,1985-03-14\n").unwrap();
    let failed = env.cli(&["registry", "import", csv.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&failed.stderr).contains("line 2"));

    // Enrol through a server, then operate on the files while it runs.
    let server = env.start(&["--lists-reload-secs", "1"]);
    let phone = wallet(env.dir.path(), "phone");
    let reply = enrol(&server, &phone, &code);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let ids = common::bundle_ids(&reply.body);
    assert_eq!(ids.len(), 2, "one credential per pass");

    assert!(!env.cli(&["revoke", "000000000000"]).status.success());
    assert!(!env.cli(&["revoke", "xyz"]).status.success());
    let out = env.cli_ok(&["revoke", &ids[0].to_string()]);
    assert!(out.contains("revoked"), "{out}");
    let out = env.cli_ok(&["rotate-key"]);
    let kid = out.split_whitespace().nth(3).unwrap().trim_end_matches(';');
    assert_eq!(kid.len(), 16, "{out}");
    assert!(!env
        .cli(&["compromise", kid, "--revoked-after", "yesterday"])
        .status
        .success());
    env.cli_ok(&[
        "compromise",
        kid,
        "--revoked-after",
        "2021-12-13T12:00:00+09:00",
    ]);
    env.cli_ok(&["rotate-key"]);
    env.cli_ok(&["publish"]);
    let stats: serde_json::Value = serde_json::from_str(&env.cli_ok(&["stats"])).unwrap();
    assert_eq!(stats["issued"], 2);
    assert_eq!(stats["revoked"], 1);
    assert_eq!(stats["citizens"], 1);

    // The running server picks up the CLI's publish on its periodic reload,
    // and the lists verify against the pinned root key.
    let root = env.root_public_key();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while server.revocation_list(&root).is_empty() {
        assert!(std::time::Instant::now() < deadline, "never reloaded");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(server.trust_list(&root).keys.len(), 3);
}
