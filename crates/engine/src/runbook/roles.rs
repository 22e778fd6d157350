//! Roles the procedure refers to instead of naming a site's deployments: the
//! production deployments in priority order, the primary production deployment,
//! the test deployments, the other production deployments, and every deployment in
//! restore order. Which deployment plays which role comes from the inventory alone.
use serde::{Deserialize, Serialize};

use super::inventory::{Deployment, Environment, Inventory};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Every production deployment, highest restore priority first.
    Production,
    /// The first production deployment in restore order (the runbook's "production").
    Primary,
    /// Every test deployment, in restore order.
    Test,
    /// Production deployments other than the primary ("another production app").
    OtherProduction,
    /// Every deployment in restore order (production first).
    RestoreOrder,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Production => "production",
            Role::Primary => "primary",
            Role::Test => "test",
            Role::OtherProduction => "other_production",
            Role::RestoreOrder => "restore_order",
        }
    }
}

/// Deployments in restore order: by the best restore rank of their processes,
/// production before test when unranked, then in inventory order.
pub fn restore_order(inv: &Inventory) -> Vec<&Deployment> {
    let rank = |d: &Deployment| {
        d.processes
            .get_ref()
            .iter()
            .filter_map(|p| {
                inv.restore
                    .iter()
                    .position(|r| r.process.get_ref() == p)
                    .or_else(|| inv.restore_rank(p))
            })
            .min()
            .unwrap_or(usize::MAX)
    };
    let mut ds: Vec<(usize, &Deployment)> = inv.deployment.iter().enumerate().collect();
    ds.sort_by_key(|(i, d)| (rank(d), d.environment != Environment::Production, *i));
    ds.into_iter().map(|(_, d)| d).collect()
}

/// The primary production deployment: the first production deployment in restore
/// order; with no production deployment, the first deployment in restore order.
pub fn primary(inv: &Inventory) -> Option<&Deployment> {
    let order = restore_order(inv);
    order
        .iter()
        .find(|d| d.environment == Environment::Production)
        .or_else(|| order.first())
        .copied()
}

/// The deployments that play `role`, in the order the procedure lists them.
pub fn deployments(inv: &Inventory, role: Role) -> Vec<&Deployment> {
    let order = restore_order(inv);
    let primary_id = primary(inv).map(|d| d.id.get_ref().clone());
    let is_primary = |d: &&Deployment| Some(d.id.get_ref()) == primary_id.as_ref();
    match role {
        Role::RestoreOrder => order,
        // As a role played (scenario A), only a production deployment is primary.
        Role::Primary => primary(inv)
            .filter(|d| d.environment == Environment::Production)
            .into_iter()
            .collect(),
        Role::Production => order
            .into_iter()
            .filter(|d| d.environment == Environment::Production)
            .collect(),
        Role::Test => order
            .into_iter()
            .filter(|d| d.environment == Environment::Test)
            .collect(),
        Role::OtherProduction => order
            .into_iter()
            .filter(|d| d.environment == Environment::Production && !is_primary(d))
            .collect(),
    }
}

/// Display words for a deployment, used in titles and purposes (never in commands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Display {
    /// The application's display name, e.g. "Flyer Crawler".
    pub app_name: String,
    /// "Production" or "Test".
    pub env_title: String,
    /// "Flyer Crawler Production".
    pub title: String,
}

pub fn display(inv: &Inventory, d: &Deployment) -> Display {
    let app_name = inv
        .app_name(d.app.get_ref())
        .unwrap_or(d.app.get_ref())
        .to_string();
    let env_title = match d.environment {
        Environment::Production => "Production",
        Environment::Test => "Test",
    }
    .to_string();
    Display {
        title: format!("{app_name} {env_title}"),
        app_name,
        env_title,
    }
}
