//! Names of the automatic predicates the runbook data may refer to. `assess`
//! evaluates them from live state; loading refuses any other name so a typo in the
//! runbook is caught at load time.

/// Production process(es) down or production health failing.
pub const PRODUCTION_APP_DOWN: &str = "production_app_down";
/// More than one application affected.
pub const MULTIPLE_APPS_AFFECTED: &str = "multiple_apps_affected";
/// Only test deployments affected.
pub const TEST_ONLY_AFFECTED: &str = "test_only_affected";
/// The process isolation signature: every process missing or errored/stopped.
pub const INCIDENT_SIGNATURE: &str = "incident_signature";
/// Scope questions.
pub const ANY_PROCESS_NOT_ONLINE: &str = "any_process_not_online";
pub const PRODUCTION_HEALTH_DOWN: &str = "production_health_down";
pub const TEST_HEALTH_DOWN: &str = "test_health_down";
pub const OTHER_APPS_AFFECTED: &str = "other_apps_affected";
/// Restoration scenarios.
/// A: only the primary production deployment is affected.
pub const SCENARIO_A: &str = "primary_production_missing";
/// B: only one test deployment is affected.
pub const SCENARIO_B: &str = "test_deployment_missing";
/// C: only one other production deployment is affected.
pub const SCENARIO_C: &str = "other_production_missing";
pub const SCENARIO_D: &str = "all_processes_missing";
/// Verification checklist.
pub const ALL_EXPECTED_ONLINE: &str = "all_expected_online";
pub const PRODUCTION_HEALTHY: &str = "production_healthy";
pub const TEST_HEALTHY: &str = "test_healthy";
pub const NO_HIGH_RESTARTS: &str = "no_high_restarts";
pub const NONE_ERRORED_OR_STOPPED: &str = "none_errored_or_stopped";
/// Only the responder can tick this one (the tool cannot see `pm2 save`'s file being current).
pub const PM2_SAVED: &str = "pm2_saved";

pub const KNOWN: &[&str] = &[
    PRODUCTION_APP_DOWN,
    MULTIPLE_APPS_AFFECTED,
    TEST_ONLY_AFFECTED,
    INCIDENT_SIGNATURE,
    ANY_PROCESS_NOT_ONLINE,
    PRODUCTION_HEALTH_DOWN,
    TEST_HEALTH_DOWN,
    OTHER_APPS_AFFECTED,
    SCENARIO_A,
    SCENARIO_B,
    SCENARIO_C,
    SCENARIO_D,
    ALL_EXPECTED_ONLINE,
    PRODUCTION_HEALTHY,
    TEST_HEALTHY,
    NO_HIGH_RESTARTS,
    NONE_ERRORED_OR_STOPPED,
    PM2_SAVED,
];

pub fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
}
