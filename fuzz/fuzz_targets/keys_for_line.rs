//! `entry::keys_for_line` (the `keys` command) over an arbitrary input
//! line: the output must always be one JSON object.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let out = rekor_backfill::entry::keys_for_line(line);
    assert!(
        out.starts_with("{\"keys\":[") || out.starts_with("{\"error\":"),
        "unexpected output {out}"
    );
    assert!(!out.contains('\n'), "output is not one line");
});
