//! The per-site lines of a communication (`- host: DOWN`, `- host: Down for X minutes`),
//! regenerated from the inventory's sites instead of the template's hard-coded ones.
use super::context::CommsContext;
use super::fill::minutes;
use super::sites::Site;
use super::text::{self, replace_once};

/// Placeholder for a site whose state is not known.
const UNKNOWN_STATE: &str = "[UP|DOWN]";

/// The per-site block regenerated from the inventory: the template's line shape (`- host:
/// DOWN`, `- host: Down for X minutes`) once per site. The notification and resolution list
/// the affected sites (all of them while none was seen down); a status update lists all.
pub fn site_lines(
    template_id: &str,
    block: &[String],
    n_sites: usize,
    placeholders: &[(&str, bool)],
    ctx: &CommsContext,
) -> Vec<String> {
    let Some((_, tail)) = block.first().and_then(|l| text::site_line(l)) else {
        return block.to_vec();
    };
    let placeholder = |downtime: bool| {
        placeholders
            .iter()
            .find(|(p, d)| *d == downtime && tail.contains(p))
            .map(|(p, _)| *p)
    };
    let (ph, downtime) = match (placeholder(true), placeholder(false)) {
        (Some(p), _) => (p, true),
        (None, Some(p)) => (p, false),
        (None, None) => return block.to_vec(),
    };
    let affected_only = matches!(template_id, "incident-notification" | "resolution");
    let mut chosen: Vec<&Site> = ctx
        .sites
        .iter()
        .filter(|s| !affected_only || s.ever_down())
        .collect();
    if chosen.is_empty() {
        chosen = ctx.sites.iter().collect();
    }
    if chosen.is_empty() {
        return block.to_vec();
    }
    let mut out = Vec::new();
    let mut all_known = true;
    for s in &chosen {
        let v = if downtime {
            s.downtime_secs(ctx.downtime_until).map(minutes)
        } else {
            s.up.map(|u| if u { "UP" } else { "DOWN" }.to_string())
        };
        all_known &= v.is_some();
        let v = v.unwrap_or_else(|| {
            if downtime {
                ph.to_string()
            } else {
                UNKNOWN_STATE.to_string()
            }
        });
        out.push(format!("- {}: {}", s.host, replace_once(tail, &[(ph, &v)])));
    }
    // "- [other affected apps]" stays only while some site's state is unknown.
    if !all_known {
        out.extend(block[n_sites..].iter().cloned());
    }
    out
}
