//! Issued bundles as the wallet imports them. The fuzzer's bytes are read as a CBOR array of
//! claims; each is signed by the trusted issuer key inside the harness and the bundle of those
//! credentials is imported with the trust list, so import reaches every check behind the
//! signatures. The raw bytes are also imported as a bundle.
#![no_main]

mod common;

use ciborium::value::Value;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let wallet = common::wallet();
    let trust = common::trust_list();
    let _ = wallet.import(bytes, Some(trust), common::now());
    let Ok(Value::Array(items)) = ciborium::de::from_reader::<Value, _>(bytes) else {
        return;
    };
    let credentials: Vec<Value> = items
        .into_iter()
        .map(|item| match item {
            Value::Bytes(claims) => Value::Bytes(common::signed_credential(&claims)),
            other => other,
        })
        .collect();
    let bundle = common::encode(&Value::Array(credentials));
    if let Ok(imported) = wallet.import(&bundle, Some(trust), common::now()) {
        for pass in imported {
            let _ = wallet.remove(&pass.id);
        }
    }
});
