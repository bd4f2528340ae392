//! The signed entry timestamp (SET): the log's signature over the canonical
//! JSON of `{body, integratedTime, logID, logIndex}` (Rekor
//! `pkg/api/entries.go`, `bundle.RekorPayload` through RFC 8785).

/// The payload Rekor signs. Keys in RFC 8785 order; the body is base64 and
/// the log ID hex, so serde_json's string escaping is the canonical one.
pub fn payload(body_b64: &str, integrated_time: i64, log_id: &str, log_index: u64) -> String {
    format!(
        "{{\"body\":{},\"integratedTime\":{integrated_time},\"logID\":{},\"logIndex\":{log_index}}}",
        serde_json::Value::from(body_b64),
        serde_json::Value::from(log_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_the_canonical_json_of_the_rekor_payload() {
        let got = payload("eyJh", 1700000000, "c0d2", 42);
        assert_eq!(
            got,
            r#"{"body":"eyJh","integratedTime":1700000000,"logID":"c0d2","logIndex":42}"#
        );
        // Already canonical: the RFC 8785 transform leaves it as it is.
        let canonical = crate::pki::jcs::transform(got.as_bytes()).unwrap();
        assert_eq!(canonical, got.as_bytes());
    }
}
