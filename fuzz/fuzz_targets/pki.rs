//! The key and signature parsers one by one, so the fuzzer reaches their
//! depths without first building a valid entry around them. The first
//! byte picks the parser, the rest is its input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rekor_backfill::pki::{
    cose, jcs, minisign::MinisignKey, pgp::PgpKey, pkcs7, ssh::SshKey, x509::X509Key, PublicKey,
};

fn key<K: PublicKey>(parsed: Result<K, rekor_backfill::pki::PkiError>) {
    if let Ok(k) = parsed {
        let _ = k.canonical_value();
        let _ = k.subjects();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    match which % 8 {
        0 => key(X509Key::parse(input)),
        1 => key(PgpKey::parse(input)),
        2 => key(SshKey::parse(input)),
        3 => key(MinisignKey::parse(input)),
        4 => {
            if let Ok(sig) = pkcs7::Pkcs7Signature::parse(input) {
                let _ = sig.canonical_value();
            }
        }
        5 => {
            let _ = pkcs7::check_timestamp_response(input);
        }
        6 => {
            let _ = jcs::transform(input);
        }
        _ => {
            let _ = cose::parse_sign1(input);
        }
    }
});
