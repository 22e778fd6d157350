//! Decoding a line of the writer's own shape in one pass: `{"seq":N,"ts":"..","prev":"..",
//! "kind":"..",<the event's fields>}`. The envelope is read in that order, then the fields go
//! straight into the kind's struct: no `Value` tree, and none of the buffering serde does for
//! an internally tagged enum (which copies every field before knowing the kind). Reading
//! journals is mostly this (issue #19: 1M events indexed, verified, reported).
//!
//! Anything else (keys in another order or escaped, an envelope key repeated among the
//! fields, an unknown kind, a malformed field) is `None`, and the caller takes the general
//! path, which gives the same event or the precise error; so this never decides what a line
//! means, only how fast the common case is read.
use super::line::Decoded;
use crate::incident::event::*;
use chrono::{DateTime, Utc};
use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// The event of a line in the writer's shape, or `None` (take the general path).
pub fn decode(line: &[u8]) -> Option<Decoded> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let d = de.deserialize_map(LineVisitor).ok()?;
    de.end().ok()?;
    Some(d)
}

struct LineVisitor;

/// Not the writer's shape: the general path decides.
fn other<E: de::Error>() -> E {
    E::custom("not the writer's line shape")
}

/// The next key must be `want`, unescaped.
fn expect_key<'de, A: MapAccess<'de>>(map: &mut A, want: &str) -> Result<(), A::Error> {
    match map.next_key::<&'de str>()? {
        Some(k) if k == want => Ok(()),
        _ => Err(other()),
    }
}

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Decoded;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a journal line")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decoded, A::Error> {
        expect_key(&mut map, "seq")?;
        let seq: u64 = map.next_value()?;
        expect_key(&mut map, "ts")?;
        let ts: &str = map.next_value()?;
        let ts = DateTime::parse_from_rfc3339(ts)
            .map_err(|_| other::<A::Error>())?
            .with_timezone(&Utc);
        expect_key(&mut map, "prev")?;
        let prev: &str = map.next_value()?;
        expect_key(&mut map, "kind")?;
        let kind: &str = map.next_value()?;
        let rest = MapAccessDeserializer::new(Fields(map));
        macro_rules! kinds {
            ($($k:literal => $v:ident($t:ty)),* $(,)?) => {
                match kind {
                    $($k => Event::$v(<$t>::deserialize(rest)?),)*
                    _ => return Err(other()),
                }
            };
        }
        let event = kinds! {
            "incident_opened" => IncidentOpened(Opened),
            "pm2_observation" => Pm2Observation(Observation),
            "daemon_state" => DaemonState(DaemonState),
            "pm2_event" => Pm2Event(Pm2Event),
            "health_result" => HealthResult(HealthResult),
            "step_entered" => StepEntered(StepRef),
            "step_completed" => StepCompleted(StepRef),
            "step_left" => StepLeft(StepRef),
            "step_skipped" => StepSkipped(StepSkipped),
            "command_started" => CommandStarted(CommandStarted),
            "output_lines" => OutputLines(OutputLines),
            "command_finished" => CommandFinished(CommandFinished),
            "guard_refused" => GuardRefused(GuardRefused),
            "severity_proposed" => SeverityProposed(SeverityProposed),
            "severity_decided" => SeverityDecided(SeverityDecided),
            "checklist_ticked" => ChecklistTicked(ChecklistTicked),
            "note" => Note(Note),
            "comm_drafted" => CommDrafted(CommDrafted),
            "comm_sent" => CommSent(CommSent),
            "comm_posted" => CommPosted(CommPosted),
            "milestone" => Milestone(MilestoneReached),
            "interrupted" => Interrupted(Interrupted),
            "resumed" => Resumed(Resumed),
            "incident_closed" => IncidentClosed(Closed),
            "impact" => Impact(Impact),
            "five_whys" => FiveWhys(FiveWhys),
            "root_cause" => RootCause(RootCause),
            "contributing_factor" => ContributingFactor(TextItem),
            "action_item" => ActionItem(ActionItem),
            "lesson_learned" => LessonLearned(Lesson),
            "evidence_preserved" => EvidencePreserved(EvidencePreserved),
        };
        Ok(Decoded {
            seq,
            ts,
            prev: prev.to_string(),
            event,
        })
    }
}

/// The line's remaining entries, as the event struct reads them. An envelope key (or `kind`)
/// among them is refused: the general path reads such a line as a whole object.
struct Fields<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Fields<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Checked(seed))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }
}

/// A field name, checked, then handed to the struct's own field visitor.
struct Checked<K>(K);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for Checked<K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        d.deserialize_str(CheckedVisitor(self.0))
    }
}

struct CheckedVisitor<K>(K);

fn reserved(k: &str) -> bool {
    k == "kind" || ENVELOPE_KEYS.contains(&k)
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for CheckedVisitor<K> {
    type Value = K::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, k: &'de str) -> Result<K::Value, E> {
        if reserved(k) {
            return Err(other());
        }
        self.0.deserialize(BorrowedStrDeserializer::new(k))
    }

    fn visit_str<E: de::Error>(self, k: &str) -> Result<K::Value, E> {
        if reserved(k) {
            return Err(other());
        }
        self.0.deserialize(StringDeserializer::new(k.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::sample::runbook_incident;
    use crate::journal::line::{encode, GENESIS};

    /// Every kind the tool writes decodes here exactly as serde's tagged enum decodes it.
    #[test]
    fn every_written_kind_decodes_as_the_general_path_does() {
        let mut kinds = std::collections::BTreeSet::new();
        let events = runbook_incident()
            .into_iter()
            .chain(crate::journal::synth::events(3_000));
        for (i, (ts, e)) in events.enumerate() {
            let ts = crate::journal::line::truncate_ms(ts);
            let line = encode(i as u64, ts, GENESIS, &e);
            if matches!(e, Event::Unknown(_)) {
                assert!(decode(line.as_bytes()).is_none(), "kept whole elsewhere");
                continue;
            }
            let fast = decode(line.as_bytes()).unwrap_or_else(|| panic!("not fast: {line}"));
            let general: Event = serde_json::from_str(&line).unwrap();
            assert_eq!(fast.event, general, "{line}");
            assert_eq!(fast.event, e);
            assert_eq!(
                (fast.seq, fast.ts, fast.prev.as_str()),
                (i as u64, ts, GENESIS)
            );
            kinds.insert(e.kind().to_string());
        }
        assert!(kinds.len() >= 20, "covers most kinds: {kinds:?}");
    }

    #[test]
    fn anything_but_the_writers_shape_is_left_to_the_general_path() {
        let ok = format!(
            r#"{{"seq":1,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"note","author":"a","text":"t"}}"#
        );
        assert!(decode(ok.as_bytes()).is_some());
        for bad in [
            // envelope in another order
            format!(
                r#"{{"ts":"2026-02-17T04:12:00.000Z","seq":1,"prev":"{GENESIS}","kind":"note","author":"a","text":"t"}}"#
            ),
            // an envelope key again among the fields (the general path: the last one wins)
            format!(
                r#"{{"seq":1,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"note","author":"a","text":"t","seq":2}}"#
            ),
            format!(
                r#"{{"seq":1,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"note","kind":"impact","author":"a","text":"t"}}"#
            ),
            // an escaped key, an unknown kind, a missing field, trailing bytes
            format!(
                r#"{{"se\u0071":1,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"note","author":"a","text":"t"}}"#
            ),
            format!(
                r#"{{"seq":1,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"newer_kind","x":1}}"#
            ),
            format!(
                r#"{{"seq":1,"ts":"2026-02-17T04:12:00.000Z","prev":"{GENESIS}","kind":"note","author":"a"}}"#
            ),
            format!("{ok} x"),
        ] {
            assert!(decode(bad.as_bytes()).is_none(), "{bad}");
        }
    }
}
