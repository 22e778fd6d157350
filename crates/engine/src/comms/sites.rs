//! Each inventory site (a deployment's public host) with its state as the incident's
//! availability tracking saw it: up or down now, whether it was ever down, and for how long.
use crate::incident::availability::AppState;
use crate::incident::event::{Milestone, Ts};
use crate::incident::Incident;
use crate::runbook::inventory::Deployment;
use crate::runbook::{Environment, Inventory};

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Inventory deployment id, e.g. `flyer-crawler-prod`.
    pub deployment: String,
    /// Host of the deployment's public URL, e.g. `flyer-crawler.projectium.com`.
    pub host: String,
    pub environment: Environment,
    /// Current state; `None` while nothing has been observed for it.
    pub up: Option<bool>,
    /// Outage intervals (end `None` while still down); the first is back-dated to the
    /// recorded impact start when the site was already down at its first observation.
    pub outages: Vec<(Ts, Option<Ts>)>,
    /// When it came back from its last outage, if it is up now.
    pub restored_at: Option<Ts>,
}

impl Site {
    pub fn ever_down(&self) -> bool {
        !self.outages.is_empty()
    }

    /// Seconds down up to `until` (open outages count until then); `None` if never observed.
    pub fn downtime_secs(&self, until: Ts) -> Option<i64> {
        self.up?;
        Some(
            clip(&self.outages, until)
                .iter()
                .map(|(a, b)| (*b - *a).num_seconds())
                .sum(),
        )
    }
}

/// Every deployment of the inventory as a site, production first, then by host.
pub fn sites(inv: &Inventory, inc: &Incident) -> Vec<Site> {
    let impact_start = inc.milestones.get(&Milestone::ImpactStarted).copied();
    let mut out: Vec<Site> = inv
        .deployment
        .iter()
        .map(|d| {
            let app = app_state(inc, d);
            let outages = app.map(|a| outages(a, impact_start)).unwrap_or_default();
            let up = app.and_then(|a| a.up);
            let restored_at = match (up, outages.last()) {
                (Some(true), Some((_, to))) => *to,
                _ => None,
            };
            Site {
                deployment: d.id.get_ref().clone(),
                // No public URL (an `init` inventory): the deployment names the site.
                host: d
                    .public()
                    .map(host_of)
                    .unwrap_or_else(|| d.id.get_ref().clone()),
                environment: d.environment,
                up,
                outages,
                restored_at,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.environment, &a.host, &a.deployment).cmp(&(b.environment, &b.host, &b.deployment))
    });
    out
}

/// Total time any site was down (the union of all outages) up to `until`.
pub fn total_downtime_secs(sites: &[Site], until: Ts) -> Option<i64> {
    if sites.iter().all(|s| s.up.is_none()) {
        return None;
    }
    let mut spans: Vec<(Ts, Ts)> = sites.iter().flat_map(|s| clip(&s.outages, until)).collect();
    spans.sort();
    let mut total = 0;
    let mut cur: Option<(Ts, Ts)> = None;
    for (a, b) in spans {
        cur = match cur {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += (cb - ca).num_seconds();
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((a, b)) = cur {
        total += (b - a).num_seconds();
    }
    Some(total)
}

/// Outages cut at `until` (an outage after it does not count yet; open ones end there).
fn clip(outages: &[(Ts, Option<Ts>)], until: Ts) -> Vec<(Ts, Ts)> {
    outages
        .iter()
        .filter_map(|(from, to)| {
            let end = to.map_or(until, |t| t.min(until));
            (end > *from).then_some((*from, end))
        })
        .collect()
}

/// The availability entry of a deployment. The live app names entries after the deployment
/// id (`flyer-crawler-prod (production)`); older journals and samples after the app id
/// (`flyer-crawler (production)`); an entry made from a health result alone is found by URL.
fn app_state<'a>(inc: &'a Incident, d: &Deployment) -> Option<&'a AppState> {
    let env = d.environment.as_str();
    let by_label = |name: &str| {
        let label = format!("{name} ({env})");
        inc.availability.apps.iter().find(|a| a.label == label)
    };
    by_label(d.id.get_ref())
        .or_else(|| by_label(d.app.get_ref()))
        .or_else(|| {
            let bases: Vec<&str> = d
                .public()
                .into_iter()
                .chain(d.local_url.as_deref())
                .map(|b| b.trim_end_matches('/'))
                .collect();
            inc.availability.apps.iter().find(|a| {
                a.health_up.keys().any(|url| {
                    bases.iter().any(|b| {
                        url.strip_prefix(b)
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                    })
                })
            })
        })
}

/// Outages as intervals, the first back-dated like the report does (same numbers).
fn outages(a: &AppState, impact_start: Option<Ts>) -> Vec<(Ts, Option<Ts>)> {
    a.outages
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let from = match impact_start {
                Some(s) if i == 0 && Some(o.from) == a.first_known && s < o.from => s,
                _ => o.from,
            };
            (from, o.to)
        })
        .collect()
}

/// `https://user@host:443/path` -> `host`.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    host.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::event::Entry;
    use crate::incident::{fold, sample};
    use crate::runbook::Runbook;

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://flyer-crawler.projectium.com"),
            "flyer-crawler.projectium.com"
        );
        assert_eq!(host_of("http://u:p@Example.com:8080/a?b"), "example.com");
        assert_eq!(host_of("localhost:3001/x"), "localhost");
    }

    /// The runbook's own incident (availability keyed by app id): per-site downtime agrees
    /// with the availability's own arithmetic, which the report prints.
    #[test]
    fn sample_incident_downtime_matches_availability() {
        let rb = Runbook::embedded().expect("embedded runbook loads");
        let entries: Vec<Entry> = sample::runbook_incident()
            .into_iter()
            .enumerate()
            .map(|(i, (ts, event))| Entry {
                seq: i as u64,
                ts,
                event,
            })
            .collect();
        let inc = fold(&entries);
        let end = sample::at(4, 31, 0);
        let s = sites(&rb.inventory, &inc);
        let hosts: Vec<&str> = s.iter().map(|x| x.host.as_str()).collect();
        assert_eq!(
            hosts,
            [
                "flyer-crawler.projectium.com",
                "stock-alert.projectium.com",
                "flyer-crawler-test.projectium.com"
            ]
        );
        let impact = inc.milestones.get(&Milestone::ImpactStarted).copied();
        for site in &s {
            let label = match site.deployment.as_str() {
                "flyer-crawler-prod" => "flyer-crawler (production)",
                "flyer-crawler-test" => "flyer-crawler (test)",
                _ => "stock-alert (production)",
            };
            let a = inc.availability.get(label).expect(label);
            assert_eq!(
                site.downtime_secs(end).map(|x| x * 1000),
                Some(a.downtime_ms(end, impact) / 1000 * 1000),
                "{label}"
            );
            assert!(site.ever_down() && site.up == Some(true), "{label}");
        }
        // Back-dated to the 04:05:12 impact start; stock-alert back at 04:16:04.
        let total = total_downtime_secs(&s, end);
        assert_eq!(
            total,
            Some((sample::at(4, 17, 20) - sample::at(4, 5, 12)).num_seconds())
        );
    }

    /// An inventory without public URLs (as `init` writes): sites are named by
    /// deployment, and an empty base never claims every health URL.
    #[test]
    fn no_public_url_names_the_deployment() {
        let inv = crate::runbook::DEFAULT_INVENTORY
            .replace("public_url = \"https://stock-alert.projectium.com\"", "");
        let rb = Runbook::parse(
            crate::runbook::Source {
                name: "p",
                text: crate::runbook::DEFAULT_PROCEDURE,
            },
            crate::runbook::Source {
                name: "i",
                text: &inv,
            },
        )
        .expect("loads");
        let entries: Vec<Entry> = sample::runbook_incident()
            .into_iter()
            .enumerate()
            .map(|(i, (ts, event))| Entry {
                seq: i as u64,
                ts,
                event,
            })
            .collect();
        let s = sites(&rb.inventory, &fold(&entries));
        assert!(s.iter().any(|x| x.host == "stock-alert-prod"), "{s:?}");
    }
}
