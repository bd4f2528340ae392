//! The index keys the server derived from an in-toto statement at upload
//! (§10): `alg + ":" + digest` for every subject digest and, for SLSA v0.2
//! provenance, every `predicate.materials[].digest` — not lowercased.
//!
//! Rekor v1.5.4 has three sets of rules, all ported here:
//! * intoto 0.0.1/0.0.2 (`IndexKeys`): subjects from
//!   `json.Unmarshal(payload, &struct{Subject []struct{Digest map[string]string}})`;
//!   materials only if the whole payload also decodes into in-toto-golang
//!   v0.11.0's `ProvenanceStatement` (SLSA v0.2 predicate) without a type
//!   error — e.g. a non-RFC-3339 `buildStartedOn` drops all materials.
//!   When the subjects do not decode, 0.0.1 just skips the payload keys but
//!   0.0.2's `IndexKeys` fails: the server wrote no key at all for that
//!   entry, and neither does this port (a [`KeyError`]).
//! * cose 0.0.1 (`IndexKeys`): the subjects as intoto reads them, no
//!   materials, and an undecodable statement just adds nothing.
//! * dsse 0.0.1 (`Unmarshal`): subjects and the raw predicate from one
//!   decode (any error: no keys at all), materials from decoding the raw
//!   predicate as `struct{Materials []struct{Digest map[string]string}}`.
//!
//! Go's decoder semantics matter and are reproduced: field names match
//! case-insensitively, `null` leaves structs alone and resets maps/slices,
//! a repeated array field decodes into the existing elements (a repeated
//! digest object merges keys), `interface{}` fields fail on numbers that
//! overflow `float64`.
//!
//! Order: Go iterates the digest map in random order. Here each digest map
//! is emitted sorted by algorithm name (byte order), subjects and materials
//! in array order — one of the orders Go could have produced.
//!
use std::collections::BTreeMap;

use super::gojson::{self, Kind, Value};
use super::gostruct::{
    check_any, check_bool, check_string, check_time, decode_struct, Decoded, TypeError,
};
use super::KeyError;

/// Which upload-time extraction to mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
    /// intoto 0.0.1 `IndexKeys`: an undecodable statement adds nothing.
    IntotoV001,
    /// intoto 0.0.2 `IndexKeys`: an undecodable statement is an error.
    IntotoV002,
    /// dsse 0.0.1 `Unmarshal`.
    Dsse,
    /// cose 0.0.1 `IndexKeys`: subjects only (its own `indexKeyExtract`),
    /// an undecodable statement adds nothing.
    Cose,
}

/// The payload keys for a decoded in-toto payload (the statement bytes).
pub fn payload_keys(payload: &[u8], rules: Rules) -> Result<Vec<String>, KeyError> {
    let decoded = gojson::unmarshal(payload)
        .map_err(|_| TypeError)
        .and_then(|root| match rules {
            Rules::IntotoV001 | Rules::IntotoV002 => {
                let mut keys = subjects_only(root)?.keys();
                if let Ok(materials) = slsa_v02_materials(root) {
                    keys.extend(materials.keys());
                }
                Ok(keys)
            }
            Rules::Cose => Ok(subjects_only(root)?.keys()),
            Rules::Dsse => {
                let (subjects, predicate) = subjects_and_raw_predicate(root)?;
                let mut keys = subjects.keys();
                if let Some(materials) = predicate.and_then(|p| materials_only(p).ok()) {
                    keys.extend(materials.keys());
                }
                Ok(keys)
            }
        });
    match (decoded, rules) {
        (Ok(keys), _) => Ok(keys),
        (Err(TypeError), Rules::IntotoV002) => Err(KeyError::decode(
            "in-toto payload does not decode as a statement (the server wrote no index keys for this entry)",
        )),
        (Err(TypeError), _) => Ok(Vec::new()),
    }
}

/// A Go `[]struct{…; Digest map[string]string}` being decoded: `slots`
/// holds every element ever materialised (Go reuses them when the same
/// array field appears again), `len` is the slice length.
#[derive(Default)]
struct DigestList {
    slots: Vec<Option<BTreeMap<String, String>>>,
    len: usize,
}

impl DigestList {
    fn keys(&self) -> Vec<String> {
        self.slots[..self.len]
            .iter()
            .flatten()
            .flat_map(|digest| digest.iter().map(|(alg, d)| format!("{alg}:{d}")))
            .collect()
    }

    /// Go `decodeState.array` into the slice; `element` decodes one element
    /// into its (possibly reused) slot.
    fn decode(
        &mut self,
        value: Value<'_>,
        mut element: impl FnMut(Value<'_>, &mut Option<BTreeMap<String, String>>) -> Decoded,
    ) -> Decoded {
        match value.kind() {
            Kind::Null => {
                *self = DigestList::default();
                Ok(())
            }
            Kind::Array => {
                let mut i = 0;
                for item in value.elements() {
                    if i == self.slots.len() {
                        self.slots.push(None);
                    }
                    element(item, &mut self.slots[i])?;
                    i += 1;
                }
                if i == 0 {
                    // Go replaces the slice with a fresh empty one.
                    *self = DigestList::default();
                }
                self.len = i;
                Ok(())
            }
            _ => Err(TypeError),
        }
    }
}

/// `map[string]string` (in-toto `DigestSet`): merges into an existing map;
/// `null` values store "".
fn decode_digest_map(value: Value<'_>, map: &mut Option<BTreeMap<String, String>>) -> Decoded {
    match value.kind() {
        Kind::Null => {
            *map = None;
            Ok(())
        }
        Kind::Object => {
            let m = map.get_or_insert_with(BTreeMap::new);
            for (key, v) in value.members() {
                let s = match v.kind() {
                    Kind::String => v.as_str().unwrap_or_default(),
                    Kind::Null => String::new(),
                    _ => return Err(TypeError),
                };
                m.insert(key, s);
            }
            Ok(())
        }
        _ => Err(TypeError),
    }
}

/// `struct{Digest map[string]string "digest"}` as a slice element.
fn decode_digest_item(value: Value<'_>, slot: &mut Option<BTreeMap<String, String>>) -> Decoded {
    decode_struct(value, &["digest"], |_, v| decode_digest_map(v, slot))
}

/// intoto `indexKeyExtract`: subjects only.
fn subjects_only(root: Value<'_>) -> Decoded<DigestList> {
    let mut subjects = DigestList::default();
    decode_struct(root, &["subject"], |_, v| {
        subjects.decode(v, decode_digest_item)
    })?;
    Ok(subjects)
}

/// dsse `indexKeyExtract`: subjects and the raw predicate.
fn subjects_and_raw_predicate(root: Value<'_>) -> Decoded<(DigestList, Option<Value<'_>>)> {
    let mut subjects = DigestList::default();
    let mut predicate = None;
    decode_struct(root, &["subject", "predicate"], |i, v| {
        if i == 0 {
            subjects.decode(v, decode_digest_item)
        } else {
            predicate = Some(v);
            Ok(())
        }
    })?;
    Ok((subjects, predicate))
}

/// dsse `materialsExtract` on the raw predicate.
fn materials_only(predicate: Value<'_>) -> Decoded<DigestList> {
    let mut materials = DigestList::default();
    decode_struct(predicate, &["materials"], |_, v| {
        materials.decode(v, decode_digest_item)
    })?;
    Ok(materials)
}

/// in-toto-golang v0.11.0 `ProvenanceStatement` (`StatementHeader` + SLSA
/// v0.2 `ProvenancePredicate`): type-checks every typed field and returns
/// the materials.
fn slsa_v02_materials(root: Value<'_>) -> Decoded<DigestList> {
    let mut materials = DigestList::default();
    decode_struct(
        root,
        &["_type", "predicateType", "subject", "predicate"],
        |i, v| match i {
            0 | 1 => check_string(v),
            2 => {
                let mut ignored = DigestList::default();
                ignored.decode(v, |item, slot| {
                    decode_struct(item, &["name", "digest"], |j, f| {
                        if j == 0 {
                            check_string(f)
                        } else {
                            decode_digest_map(f, slot)
                        }
                    })
                })
            }
            _ => decode_predicate(v, &mut materials),
        },
    )?;
    Ok(materials)
}

/// SLSA v0.2 `ProvenancePredicate`.
fn decode_predicate(v: Value<'_>, materials: &mut DigestList) -> Decoded {
    const FIELDS: &[&str] = &[
        "builder",
        "buildType",
        "invocation",
        "buildConfig",
        "metadata",
        "materials",
    ];
    decode_struct(v, FIELDS, |i, f| match i {
        0 => decode_struct(f, &["id"], |_, id| check_string(id)),
        1 => check_string(f),
        2 => decode_struct(
            f,
            &["configSource", "parameters", "environment"],
            |j, g| match j {
                0 => decode_struct(g, &["uri", "digest", "entryPoint"], |k, h| match k {
                    1 => decode_digest_map(h, &mut None),
                    _ => check_string(h),
                }),
                _ => check_any(g),
            },
        ),
        3 => check_any(f),
        4 => decode_struct(
            f,
            &[
                "buildInvocationID",
                "buildStartedOn",
                "buildFinishedOn",
                "completeness",
                "reproducible",
            ],
            |j, g| match j {
                0 => check_string(g),
                1 | 2 => check_time(g),
                3 => decode_struct(g, &["parameters", "environment", "materials"], |_, b| {
                    check_bool(b)
                }),
                _ => check_bool(g),
            },
        ),
        _ => materials.decode(f, |item, slot| {
            decode_struct(item, &["uri", "digest"], |j, g| {
                if j == 0 {
                    check_string(g)
                } else {
                    decode_digest_map(g, slot)
                }
            })
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(payload: &str, rules: Rules) -> Vec<String> {
        payload_keys(payload.as_bytes(), rules).unwrap()
    }

    const SLSA02: &str = r#"{
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "a", "digest": {"sha512": "BB", "sha256": "AA"}},
                    {"name": "b", "digest": {"sha256": "CC"}}],
        "predicate": {
            "builder": {"id": "x"},
            "buildType": "t",
            "invocation": {"configSource": {"uri": "git+https://x", "digest": {"sha1": "ab"}, "entryPoint": "e"},
                           "parameters": {"n": 1.5}, "environment": null},
            "metadata": {"buildStartedOn": "2023-01-02T03:04:05Z", "completeness": {"parameters": true},
                         "reproducible": false},
            "materials": [{"uri": "git+https://y", "digest": {"sha1": "DEADBEEF"}}]
        }
    }"#;

    #[test]
    fn subjects_sorted_by_algorithm_then_materials_not_lowercased() {
        let expected = ["sha256:AA", "sha512:BB", "sha256:CC", "sha1:DEADBEEF"];
        assert_eq!(keys(SLSA02, Rules::IntotoV001), expected);
        assert_eq!(keys(SLSA02, Rules::Dsse), expected);
    }

    #[test]
    fn intoto_drops_materials_when_the_slsa_predicate_has_a_type_error() {
        let bad_time = SLSA02.replace("2023-01-02T03:04:05Z", "yesterday");
        assert_eq!(
            keys(&bad_time, Rules::IntotoV001),
            ["sha256:AA", "sha512:BB", "sha256:CC"]
        );
        // DSSE's materials extraction does not look at metadata.
        assert_eq!(keys(&bad_time, Rules::Dsse).len(), 4);
        let bad_builder = SLSA02.replace(r#"{"id": "x"}"#, r#""x""#);
        assert_eq!(keys(&bad_builder, Rules::IntotoV001).len(), 3);
        let huge_number = SLSA02.replace("1.5", "1e400");
        assert_eq!(keys(&huge_number, Rules::IntotoV001).len(), 3);
        let tiny_number = SLSA02.replace("1.5", "1e-400");
        assert_eq!(keys(&tiny_number, Rules::IntotoV001).len(), 4);
    }

    #[test]
    fn subject_type_errors_drop_everything() {
        let bad = r#"{"subject": [{"digest": {"sha256": 5}}], "predicate": {"materials": [{"digest": {"a": "b"}}]}}"#;
        assert!(keys(bad, Rules::IntotoV001).is_empty());
        assert!(keys(bad, Rules::Dsse).is_empty());
        assert!(keys("not json", Rules::IntotoV001).is_empty());
        assert!(payload_keys(b"not json", Rules::IntotoV002).is_err());
        assert!(payload_keys(bad.as_bytes(), Rules::IntotoV002).is_err());
        assert_eq!(
            payload_keys(SLSA02.as_bytes(), Rules::IntotoV002)
                .unwrap()
                .len(),
            4
        );
        assert!(keys("[1]", Rules::IntotoV001).is_empty());
        assert!(keys("null", Rules::IntotoV001).is_empty());
    }

    #[test]
    fn go_decoder_quirks() {
        // Case-insensitive field names, null digest value stored as "".
        assert_eq!(
            keys(
                r#"{"SUBJECT":[{"Digest":{"sha256":null}}]}"#,
                Rules::IntotoV001
            ),
            ["sha256:"]
        );
        // A repeated "subject" decodes into the existing elements: digest
        // maps merge, the length follows the last array.
        let repeated = r#"{"subject":[{"digest":{"a":"1"}},{"digest":{"b":"2"}}],"subject":[{"digest":{"c":"3"}}]}"#;
        assert_eq!(keys(repeated, Rules::IntotoV001), ["a:1", "c:3"]);
        // Re-growing exposes the stale second element again.
        let regrow = format!(
            "{},\"subject\":[{{}},{{}}]}}",
            &repeated[..repeated.len() - 1]
        );
        assert_eq!(keys(&regrow, Rules::IntotoV001), ["a:1", "c:3", "b:2"]);
        // An empty array resets completely.
        let reset = r#"{"subject":[{"digest":{"a":"1"}}],"subject":[],"subject":[{}]}"#;
        assert!(keys(reset, Rules::IntotoV001).is_empty());
        // Predicate null is fine for DSSE.
        assert_eq!(
            keys(
                r#"{"subject":[{"digest":{"a":"1"}}],"predicate":null}"#,
                Rules::Dsse
            ),
            ["a:1"]
        );
        // A non-object predicate drops only the materials.
        assert_eq!(
            keys(
                r#"{"subject":[{"digest":{"a":"1"}}],"predicate":"x"}"#,
                Rules::Dsse
            ),
            ["a:1"]
        );
    }
}
