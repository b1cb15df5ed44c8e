//! Rules list payloads, signed by the pinned root key inside the harness, so the bytes reach the
//! rules parser and its bounds behind the signature check; a list that parses is then asked
//! what each of its modes requires when each set is in force.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|payload: &[u8]| {
    let signed = common::signed_rules_list(payload);
    if let Ok(list) = vaxpass::RulesList::verify(&signed, &common::root().public()) {
        for set in &list.rule_sets {
            let in_force = list.in_force(set.starts_at());
            assert!(in_force.is_some(), "a set is in force once it starts");
            for mode in &set.modes {
                assert!(
                    set.requirement(&mode.name).is_ok(),
                    "a listed mode has a requirement"
                );
            }
        }
        // A list that parses signs back to the same list.
        let again = list.sign(common::root()).expect("a parsed list signs");
        let back = vaxpass::RulesList::verify(&again, &common::root().public());
        assert_eq!(back.ok().as_ref(), Some(&list), "a parsed list round-trips");
    }
});
