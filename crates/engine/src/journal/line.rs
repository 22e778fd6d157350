//! One journal line: `{"seq":N,"ts":"...Z","prev":"<sha256 hex of the previous line>",...event}`.
//! Pure encoding/decoding; the first line's `prev` is [`GENESIS`].
use crate::incident::event::{Event, Ts, ENVELOPE_KEYS, KNOWN_KINDS};
use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 hex of a line's bytes (without its newline).
pub fn hash(line: &[u8]) -> String {
    hex(&Sha256::digest(line))
}

/// Lowercase hex of a SHA-256. By table: `hex::encode` goes char by char and was a measurable
/// part of a journal scan.
pub fn hex(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(digest.len() * 2);
    for b in digest {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Timestamps are stored with milliseconds; truncating first makes a round trip exact.
pub fn truncate_ms(ts: Ts) -> Ts {
    let nanos = ts.nanosecond() / 1_000_000 * 1_000_000;
    ts.with_nanosecond(nanos).unwrap_or(ts)
}

pub fn format_ts(ts: Ts) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The line's text without the trailing newline.
pub fn encode(seq: u64, ts: Ts, prev: &str, event: &Event) -> String {
    let body = match event {
        Event::Unknown(u) => {
            let mut s = format!("\"kind\":{}", Value::String(u.kind.clone()));
            for (k, v) in &u.fields {
                s.push(',');
                s.push_str(&Value::String(k.clone()).to_string());
                s.push(':');
                s.push_str(&v.to_string());
            }
            s.push('}');
            s
        }
        // serde writes the tag first, then fields in declaration order.
        known => {
            let full = serde_json::to_string(known).unwrap_or_else(|_| "{}".to_string());
            full[1..].to_string()
        }
    };
    format!(
        "{{\"seq\":{seq},\"ts\":\"{}\",\"prev\":\"{prev}\",{body}",
        format_ts(ts)
    )
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub seq: u64,
    pub ts: Ts,
    pub prev: String,
    pub event: Event,
}

/// Decodes one line; the error says what is wrong without echoing the content.
pub fn decode(line: &[u8]) -> Result<Decoded, String> {
    // The writer's own shape in one pass; then any key order, typed; then the precise error.
    super::fast::decode(line)
        .or_else(|| typed_decode(line))
        .map_or_else(|| slow_decode(line).map_err(|e| value_free(&e)), Ok)
}

/// serde's messages quote the offending value (`invalid type: string "hunter2", expected u64`,
/// ``unknown variant `x` ``); journals hold command output and secrets, so the quoted part is
/// dropped. Field names after "field" are schema, not data, and stay.
pub fn value_free(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(['"', '`']) {
        let (before, from) = rest.split_at(i);
        let q = from.as_bytes()[0];
        // The closing quote, skipping backslash-escaped ones inside "...".
        let mut end = None;
        let mut esc = false;
        for (j, b) in from.bytes().enumerate().skip(1) {
            if esc {
                esc = false;
            } else if b == b'\\' && q == b'"' {
                esc = true;
            } else if b == q {
                end = Some(j);
                break;
            }
        }
        let Some(end) = end else {
            out.push_str(before);
            out.push_str("<value>");
            return out;
        };
        out.push_str(before);
        // Field names and known event kinds (only known kinds reach "malformed") are the
        // tool's own words, never recorded data.
        let head = before.trim_end();
        let keep = q == b'`' && (head.ends_with("field") || head.ends_with("of kind"));
        if keep {
            out.push_str(&from[..=end]);
        } else {
            out.push_str("<value>");
        }
        rest = &from[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Only the envelope and the tag, borrowed; the payload is skipped.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    seq: u64,
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    prev: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
}

/// A well-formed line of a known kind in any key order, without building a `Value` tree
/// (serde ignores the envelope keys when reading the event). Anything else returns None and
/// goes the slow way, which also produces the precise error.
fn typed_decode(line: &[u8]) -> Option<Decoded> {
    let env: Envelope = serde_json::from_slice(line).ok()?;
    if !KNOWN_KINDS.contains(&env.kind.as_ref()) {
        return None;
    }
    let ts = DateTime::parse_from_rfc3339(&env.ts)
        .ok()?
        .with_timezone(&Utc);
    let event: Event = serde_json::from_slice(line).ok()?;
    Some(Decoded {
        seq: env.seq,
        ts,
        prev: env.prev.into_owned(),
        event,
    })
}

fn slow_decode(line: &[u8]) -> Result<Decoded, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("not valid JSON ({e})"))?;
    let Value::Object(mut m) = v else {
        return Err("not a JSON object".into());
    };
    let seq = m
        .get("seq")
        .and_then(Value::as_u64)
        .ok_or("missing or invalid `seq`")?;
    let ts = m
        .get("ts")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or("missing or invalid `ts` (want RFC 3339 UTC)")?;
    let prev = match m.get("prev") {
        Some(Value::String(p)) => p.clone(),
        _ => return Err("missing `prev`".into()),
    };
    for k in ENVELOPE_KEYS {
        m.remove(*k);
    }
    let event = Event::from_object(m).map_err(|e| e.to_string())?;
    Ok(Decoded {
        seq,
        ts,
        prev,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_errors_never_quote_values() {
        let secret = "hunter2-\\u001b]52;c;x";
        let lines = [
            format!(
                r#"{{"seq":"{secret}","ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"note"}}"#
            ),
            format!(r#"{{"seq":0,"ts":"{secret}","prev":"{GENESIS}","kind":"note"}}"#),
            format!(
                r#"{{"seq":0,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"note","author":5,"text":"{secret}"}}"#
            ),
            format!(
                r#"{{"seq":0,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"command_finished","cmd_id":"{secret}"}}"#
            ),
            format!(
                r#"{{"seq":0,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"severity_proposed","level":"{secret}"}}"#
            ),
            format!(r#"{{"seq":0,"{secret}":1"#),
        ];
        for l in &lines {
            let e = decode(l.as_bytes()).unwrap_err();
            assert!(!e.contains("hunter2"), "{l}\n-> {e}");
        }
        assert_eq!(
            value_free("invalid type: string \"a\\\"b\", expected u64 at line 1"),
            "invalid type: string <value>, expected u64 at line 1"
        );
        assert_eq!(value_free("missing field `text`"), "missing field `text`");
        assert_eq!(
            value_free("unknown variant `p9`, expected one of `p1`"),
            "unknown variant <value>, expected one of <value>"
        );
    }
}
