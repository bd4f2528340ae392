//! Log output: human text (env_logger's format, the default) or one JSON
//! object per line (`--log-format json`) for log collectors.
//!
//! `log` stays the facade: code logs with `log::info!(field = value; "…")`
//! and the JSON format turns the structured fields into members of the
//! line's object (`ts`, `level`, `msg`, then the fields, their names in
//! camelCase: `log_index` becomes `logIndex`, as in Rekor's API). Text
//! lines keep only the message, which already says everything in words.
//! Verbosity follows `RUST_LOG` in both formats (default `info`).
//!
//! The format is chosen before the command line is parsed (from a scan of
//! the raw arguments, [`LogFormat::sniff`]) so that errors found while
//! parsing are logged in it too; [`crate::config`] validates the flag.

use std::io::Write;

use log::kv::{self, VisitSource, VisitValue};
use serde_json::{Number, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<LogFormat, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "--log-format must be \"text\" or \"json\", got {other:?}"
            )),
        }
    }

    /// The format `--log-format` asks for in raw (not yet parsed)
    /// arguments, Go syntax included; text when absent or invalid. A
    /// heuristic for the errors of parsing only: the parsed flag decides.
    pub fn sniff(args: &[String]) -> LogFormat {
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if arg == "--" {
                break;
            }
            let value = match arg.trim_start_matches('-').split_once('=') {
                Some(("log-format", value)) => Some(value),
                None if arg.trim_start_matches('-') == "log-format" => {
                    iter.next().map(String::as_str)
                }
                _ => None,
            };
            if let Some(format) = value.and_then(|v| LogFormat::parse(v).ok()) {
                return format;
            }
        }
        LogFormat::Text
    }
}

/// Installs the global logger.
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    builder.format_target(false);
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            let line = json_line(&buf.timestamp_millis().to_string(), record);
            writeln!(buf, "{line}")
        });
    }
    builder.init();
}

/// One record as a JSON object: `ts`, `level`, `msg`, then its fields in
/// the order given (written member by member: a `serde_json::Map` would
/// sort them).
fn json_line(ts: &str, record: &log::Record<'_>) -> String {
    let mut fields = Vec::new();
    // A field that cannot be rendered is left out; the message has it.
    let _ = record.key_values().visit(&mut Fields(&mut fields));
    let mut line = String::with_capacity(128);
    let head = [
        ("ts", Value::String(ts.to_string())),
        (
            "level",
            Value::String(record.level().as_str().to_ascii_lowercase()),
        ),
        ("msg", Value::String(record.args().to_string())),
    ];
    let members = head
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(fields);
    for (i, (key, value)) in members.enumerate() {
        line.push(if i == 0 { '{' } else { ',' });
        line.push_str(&Value::String(key).to_string());
        line.push(':');
        line.push_str(&value.to_string());
    }
    line.push('}');
    line
}

struct Fields<'a>(&'a mut Vec<(String, Value)>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let mut json = Value::Null;
        value.visit(JsonValue(&mut json))?;
        let name = camel_case(key.as_str());
        // The head members cannot be overridden by a field.
        if !matches!(name.as_str(), "ts" | "level" | "msg") {
            self.0.push((name, json));
        }
        Ok(())
    }
}

struct JsonValue<'a>(&'a mut Value);

impl<'v> VisitValue<'v> for JsonValue<'_> {
    fn visit_any(&mut self, value: kv::Value<'_>) -> Result<(), kv::Error> {
        *self.0 = Value::String(value.to_string());
        Ok(())
    }
    fn visit_null(&mut self) -> Result<(), kv::Error> {
        *self.0 = Value::Null;
        Ok(())
    }
    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        *self.0 = Value::Number(value.into());
        Ok(())
    }
    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        *self.0 = Value::Number(value.into());
        Ok(())
    }
    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        *self.0 = Number::from_f64(value).map_or(Value::Null, Value::Number);
        Ok(())
    }
    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        *self.0 = Value::Bool(value);
        Ok(())
    }
    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        *self.0 = Value::String(value.to_string());
        Ok(())
    }
}

/// `log_index` → `logIndex`.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sniffs_the_flag_in_every_syntax() {
        let json = LogFormat::Json;
        assert_eq!(LogFormat::sniff(&args(&["--log-format", "json"])), json);
        assert_eq!(LogFormat::sniff(&args(&["-log-format=json"])), json);
        assert_eq!(
            LogFormat::sniff(&args(&["--start", "1", "--log-format=json"])),
            json
        );
        assert_eq!(
            LogFormat::sniff(&args(&["--log-format=xml"])),
            LogFormat::Text
        );
        assert_eq!(
            LogFormat::sniff(&args(&["--", "--log-format=json"])),
            LogFormat::Text
        );
    }

    #[test]
    fn json_lines_carry_the_fields() {
        let index = 42u64;
        let saved: Option<u64> = None;
        let line = json_line(
            "2026-12-04T15:00:00.000Z",
            &log::Record::builder()
                .level(log::Level::Warn)
                .args(format_args!("entry {index} \"bad\""))
                .key_values(&[
                    ("log_index", kv::Value::from(index)),
                    ("uuid", kv::Value::from("ab\"c")),
                    ("checkpoint", kv::Value::from(saved.map_or(0, |v| v))),
                    ("rate", kv::Value::from(1.5f64)),
                ])
                .build(),
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ts"], "2026-12-04T15:00:00.000Z");
        assert_eq!(v["level"], "warn");
        assert_eq!(v["msg"], "entry 42 \"bad\"");
        assert_eq!(v["logIndex"], 42);
        assert_eq!(v["uuid"], "ab\"c");
        assert_eq!(v["rate"], 1.5);
        assert!(!line.contains('\n'));
        assert!(line.starts_with(r#"{"ts":"2026-12-04T15:00:00.000Z","level":"warn","msg":"#));
    }

    #[test]
    fn camel_case_names() {
        assert_eq!(camel_case("log_index"), "logIndex");
        assert_eq!(camel_case("eta_seconds"), "etaSeconds");
        assert_eq!(camel_case("uuid"), "uuid");
    }
}
