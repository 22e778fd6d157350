//! `fill(template_id, ctx)`: the runbook's template text with its placeholders replaced from
//! the incident, driven by the template's own `field` list (placeholder + source), so a site
//! that rewords its templates keeps its wording. A value the incident does not have leaves
//! the placeholder as written, for the responder to fill in.
use super::context::{CommsContext, Item};
use super::impact;
use super::text::{self, replace_once};
use crate::incident::event::{ActionItem, Severity, Ts};
use crate::runbook::model::Template;

/// Times in communications: always UTC, minute precision.
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M UTC";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    #[error("no communication template `{id}` in the runbook (it has: {known})")]
    UnknownTemplate { id: String, known: String },
}

/// Placeholders the runbook's status update lists under "[Action taken]" without declaring
/// them as fields; filled when the template uses `actions_since_last_update`.
const PROGRESS_EXTRAS: &[(&str, &str)] = &[
    ("[Discovery made]", "discoveries_since_last_update"),
    ("[Process restored]", "restored_since_last_update"),
];

/// Fields the runbook declares without a source that the incident can still fill:
/// (placeholder, meaning, source).
const UNSOURCED: &[(&str, &str, &str)] =
    &[("[description]", "Estimated user impact", "users_affected")];

enum Value {
    Inline(String),
    /// One line per entry; `done` ticks a `[ ]` checkbox in the line's prefix.
    List(Vec<(String, bool)>),
    /// Filled per site in the site block; `total` is the inline value elsewhere, if any.
    Sites {
        downtime: bool,
        total: Option<String>,
    },
    Unknown,
}

/// A field's placeholder, its source, and the value the incident gives it.
type Filled = (String, String, Value);

/// The draft for template `template_id`: subject and body filled from `ctx`.
pub fn fill(template_id: &str, ctx: &CommsContext) -> Result<Draft, FillError> {
    let t = template(template_id, ctx)?;
    let values: Vec<Filled> = fields(t, ctx)
        .into_iter()
        .map(|(p, s)| {
            let v = value(&s, &p, ctx);
            (p, s, v)
        })
        .collect();
    let inline = inline_values(&values);
    let subject = replace_once(&t.subject, &inline);
    let mut out = body(template_id, t, &values, &inline, ctx);
    text::renumber(&mut out);
    Ok(Draft {
        subject,
        body: out.join("\n"),
    })
}

/// The runbook's template `id`, or the error listing the ones it has.
fn template<'a>(id: &str, ctx: &'a CommsContext) -> Result<&'a Template, FillError> {
    ctx.template(id).ok_or_else(|| FillError::UnknownTemplate {
        id: id.to_string(),
        known: ctx
            .templates
            .iter()
            .map(|t| t.id.get_ref().as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// (placeholder, text) for every value that fits on one line (a per-site value's
/// total counts).
fn inline_values(values: &[Filled]) -> Vec<(&str, &str)> {
    values
        .iter()
        .filter_map(|(p, _, v)| match v {
            Value::Inline(x) | Value::Sites { total: Some(x), .. } => {
                Some((p.as_str(), x.as_str()))
            }
            _ => None,
        })
        .collect()
}

/// The body, line by line: the site block filled once per site, a list placeholder's
/// line repeated per entry, every other line with its inline values.
fn body(
    template_id: &str,
    t: &Template,
    values: &[Filled],
    inline: &[(&str, &str)],
    ctx: &CommsContext,
) -> Vec<String> {
    let lines: Vec<String> = t.body.split('\n').map(str::to_string).collect();
    let block = text::site_block(&lines).filter(|_| {
        values
            .iter()
            .any(|(_, _, v)| matches!(v, Value::Sites { .. }))
    });
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        if let Some((start, end, n_sites)) = block.filter(|b| b.0 == i) {
            out.extend(impact::site_lines(
                template_id,
                &lines[start..end],
                n_sites,
                &site_placeholders(values),
                ctx,
            ));
            i = end;
            continue;
        }
        let line = &lines[i];
        match list_on(line, values) {
            Some((p, entries)) => {
                out.extend(list_lines(line, p, entries));
                // The template may show the list as several placeholder lines ("1. [Action]",
                // "2. [Action]"): the entries replace all of them.
                i += 1;
                while i < lines.len() && lines[i].contains(p) {
                    i += 1;
                }
            }
            None => {
                let mut filled = replace_once(line, inline);
                if line_has_source(line, values, "next_update") {
                    filled = with_update_time(&filled, ctx);
                }
                out.push(filled);
                i += 1;
            }
        }
    }
    out
}

/// The per-site placeholders and whether each is a downtime.
fn site_placeholders(values: &[Filled]) -> Vec<(&str, bool)> {
    values
        .iter()
        .filter_map(|(p, _, v)| match v {
            Value::Sites { downtime, .. } => Some((p.as_str(), *downtime)),
            _ => None,
        })
        .collect()
}

/// The non-empty list whose placeholder is on `line`, if any.
fn list_on<'a>(line: &str, values: &'a [Filled]) -> Option<(&'a str, &'a [(String, bool)])> {
    values.iter().find_map(|(p, _, v)| match v {
        Value::List(entries) if !entries.is_empty() && line.contains(p.as_str()) => {
            Some((p.as_str(), entries.as_slice()))
        }
        _ => None,
    })
}

/// `line` once per entry, the placeholder replaced by it and a done entry's `[ ]` ticked.
fn list_lines(line: &str, placeholder: &str, entries: &[(String, bool)]) -> Vec<String> {
    let (prefix, suffix) = line.split_once(placeholder).unwrap_or((line, ""));
    entries
        .iter()
        .map(|(entry, done)| {
            let prefix = if *done {
                prefix.replacen("[ ]", "[x]", 1)
            } else {
                prefix.to_string()
            };
            format!("{prefix}{entry}{suffix}")
        })
        .collect()
}

fn line_has_source(line: &str, values: &[Filled], source: &str) -> bool {
    values
        .iter()
        .any(|(p, s, _)| s == source && line.contains(p.as_str()))
}

fn value(source: &str, placeholder: &str, ctx: &CommsContext) -> Value {
    let inline = |v: Option<String>| v.map_or(Value::Unknown, Value::Inline);
    let list =
        |items: Vec<&Item>| Value::List(items.iter().map(|i| (i.text.clone(), false)).collect());
    match source {
        "severity" => inline(ctx.severity.map(|s| severity_text(placeholder, s))),
        "detected_at" => inline(ctx.detected_at.map(time)),
        "resolved_at" => inline(ctx.resolved_at.map(time)),
        "now" => Value::Inline(time(ctx.now)),
        "status" => Value::Inline(ctx.status.as_str().to_string()),
        "commander" => inline(ctx.commander.clone()),
        "root_cause" => inline(ctx.root_cause.clone()),
        "users_affected" => inline(ctx.users_affected.clone()),
        // Always a value: what the tool cannot tell is a visible sentence to fill in.
        "incident_title" => Value::Inline(or_fill(&ctx.summary.title, "what is affected")),
        "incident_what" => Value::Inline(or_fill(&ctx.summary.what, "what happened")),
        "incident_scope" => Value::Inline(or_fill(
            &ctx.summary.scope,
            "which applications are down, since when",
        )),
        "restoring" => Value::Inline(or_fill(&ctx.summary.restoring, "current actions")),
        "resolution_summary" => Value::Inline(or_fill(
            &ctx.summary.restored,
            "what is restored and what is not",
        )),
        "affected_deployments" => inline(Some(ctx.affected.join(", ")).filter(|s| !s.is_empty())),
        "update_number" => Value::Inline(if placeholder.starts_with('#') {
            format!("#{}", ctx.update_number)
        } else {
            ctx.update_number.to_string()
        }),
        "next_update" => Value::Inline(next_update_text(placeholder, ctx.next_update_minutes)),
        "actions" => list(ctx.actions.iter().collect()),
        "actions_since_last_update" => list(ctx.since_last_update(&ctx.actions)),
        "discoveries_since_last_update" => list(ctx.since_last_update(&ctx.discoveries)),
        "restored_since_last_update" => list(ctx.since_last_update(&ctx.restored)),
        "action_items" => Value::List(action_items(
            &ctx.action_items,
            ctx.preventive_measure.as_deref(),
        )),
        "site_status" => Value::Sites {
            downtime: false,
            total: None,
        },
        "downtime" => Value::Sites {
            downtime: true,
            total: ctx.total_downtime_secs.map(minutes),
        },
        _ => Value::Unknown,
    }
}

fn or_fill(v: &Option<String>, what: &str) -> String {
    v.clone().unwrap_or_else(|| super::summary::fill_in(what))
}

/// `[P1 INCIDENT]` with the actual severity in place of the template's `P1`.
fn severity_text(placeholder: &str, s: Severity) -> String {
    let code = match s {
        Severity::P1 => "P1",
        Severity::P2 => "P2",
        Severity::P3 => "P3",
        Severity::Investigate => "UNCLASSIFIED",
    };
    match ["P1", "P2", "P3"]
        .iter()
        .find(|p| placeholder.contains(**p))
    {
        Some(p) => placeholder.replacen(p, code, 1),
        None => code.to_string(),
    }
}

/// `In 15 minutes or upon status change` / `[X]` with the promised minutes.
fn next_update_text(placeholder: &str, n: u32) -> String {
    let start = placeholder.find(|c: char| c.is_ascii_digit());
    match start {
        Some(s) => {
            let len = placeholder[s..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(placeholder.len() - s);
            format!("{}{n}{}", &placeholder[..s], &placeholder[s + len..])
        }
        None => n.to_string(),
    }
}

/// `In 30 minutes` -> `In 30 minutes (at 2026-02-17 04:44 UTC)`, so readers in other time
/// zones and the next responder see the promised time itself.
fn with_update_time(line: &str, ctx: &CommsContext) -> String {
    let n = ctx.next_update_minutes;
    let at = time(ctx.next_update_at);
    let plural = format!("{n} minutes");
    if !line.contains(&plural) {
        return line.to_string();
    }
    let unit = if n == 1 { "minute" } else { "minutes" };
    line.replacen(&plural, &format!("{n} {unit} (at {at})"), 1)
}

fn action_items(items: &[ActionItem], preventive: Option<&str>) -> Vec<(String, bool)> {
    let or = |s: &str, ph: &str| {
        if s.trim().is_empty() {
            ph.to_string()
        } else {
            s.trim().to_string()
        }
    };
    if items.is_empty() {
        // The root cause's preventive measure is the first follow-up, owner still to name.
        return preventive
            .map(|p| vec![(format!("{p} - Owner: [Name] - Due: [Date]"), false)])
            .unwrap_or_default();
    }
    items
        .iter()
        .map(|a| {
            let text = format!(
                "{} - Owner: {} - Due: {}",
                or(&a.action, "[Preventive measure]"),
                or(&a.owner, "[Name]"),
                or(&a.due, "[Date]")
            );
            (text, a.status.eq_ignore_ascii_case("done"))
        })
        .collect()
}

/// The template's (placeholder, source) pairs, with what the runbook leaves implicit.
fn fields(t: &Template, ctx: &CommsContext) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = t
        .field
        .iter()
        .filter_map(|f| {
            let implied = || {
                UNSOURCED
                    .iter()
                    .find(|(p, m, _)| *p == f.placeholder && f.meaning.eq_ignore_ascii_case(m))
                    .map(|(_, _, s)| s.to_string())
            };
            Some((f.placeholder.clone(), f.source.clone().or_else(implied)?))
        })
        .collect();
    // The severity tag of a subject (`[P1 INCIDENT]`) is declared only in the notification;
    // every subject that carries it gets the actual severity.
    for f in ctx.templates.iter().flat_map(|t| t.field.iter()) {
        if f.source.as_deref() == Some("severity")
            && t.subject.contains(&f.placeholder)
            && !fields.iter().any(|(p, _)| p == &f.placeholder)
        {
            fields.push((f.placeholder.clone(), "severity".to_string()));
        }
    }
    if fields.iter().any(|(_, s)| s == "actions_since_last_update") {
        for (p, s) in PROGRESS_EXTRAS {
            if !fields.iter().any(|(fp, _)| fp == p) {
                fields.push((p.to_string(), s.to_string()));
            }
        }
    }
    fields
}

pub fn time(t: Ts) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// Whole minutes, rounded up: a 20-second outage is reported, not shown as 0.
pub fn minutes(secs: i64) -> String {
    let m = (secs.max(0) + 59) / 60;
    if m == 1 {
        "1 minute".to_string()
    } else {
        format!("{m} minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_and_update_texts() {
        assert_eq!(
            severity_text("[P1 INCIDENT]", Severity::P2),
            "[P2 INCIDENT]"
        );
        assert_eq!(severity_text("[SEV]", Severity::P3), "P3");
        assert_eq!(
            next_update_text("In 15 minutes or upon status change", 30),
            "In 30 minutes or upon status change"
        );
        assert_eq!(next_update_text("[X]", 20), "20");
        assert_eq!(minutes(0), "0 minutes");
        assert_eq!(minutes(20), "1 minute");
        assert_eq!(minutes(61), "2 minutes");
        assert_eq!(minutes(-5), "0 minutes");
    }
}
