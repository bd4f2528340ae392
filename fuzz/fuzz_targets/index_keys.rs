//! `entry::index_keys` over arbitrary body bytes and an optional
//! attestation: it must return a value, never panic, hang or allocate
//! without bound.
//!
//! Input layout (see `fuzz/README.md`): an even first byte means no
//! attestation and the rest is the body; an odd first byte is followed by
//! a little-endian u32 attestation length, and the attestation is that many
//! bytes (clamped) at the end, the body what lies between.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flag, rest)) = data.split_first() else {
        return;
    };
    if flag & 1 == 0 {
        let _ = rekor_backfill::entry::index_keys(rest, None);
        return;
    }
    let Some((len, rest)) = rest.split_first_chunk::<4>() else {
        return;
    };
    let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
    let (body, attestation) = rest.split_at(rest.len() - len);
    let _ = rekor_backfill::entry::index_keys(body, Some(attestation));
});
