//! Where the inventory comes from (`--inventory`, `$PM2_INCIDENT_INVENTORY`,
//! `$XDG_CONFIG_HOME/pm2-incident/inventory.toml`), and what the commands do when
//! none is configured: the shipped example is never used unasked.
use std::path::Path;
use std::process::Command;

use pm2_incident::runbook::DEFAULT_INVENTORY;

fn bin(home: &Path, config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pm2-incident"));
    c.env_remove("PM2_INCIDENT_INVENTORY")
        .env("XDG_CONFIG_HOME", config)
        .env("PM2_HOME", home)
        .env_remove("PM2_DAEMON_RPC_PORT")
        .env_remove("PM2_DAEMON_PUB_PORT");
    c
}

fn out(mut c: Command) -> (i32, String) {
    let o = c.output().expect("run pm2-incident");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn without_an_inventory_nothing_is_claimed() {
    let home = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    // No daemon, no saved list, no inventory: cannot tell.
    let mut c = bin(home.path(), config.path());
    c.arg("snapshot");
    let (code, text) = out(c);
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("no inventory configured"), "{text}");
    assert!(text.contains("pm2-incident init"), "{text}");
    assert!(!text.contains("flyer-crawler"), "{text}");
    // respond says so and offers init instead of judging by the example.
    let mut c = bin(home.path(), config.path());
    c.arg("respond");
    let (code, text) = out(c);
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("run `pm2-incident init`"), "{text}");
    // Asked for explicitly, the example is used.
    let mut c = bin(home.path(), config.path());
    c.args(["snapshot", "--json", "--inventory", "example"]);
    let (_, text) = out(c);
    assert!(text.contains("flyer-crawler-prod"), "{text}");
}

#[test]
fn env_var_then_user_config_are_found() {
    let home = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let user = config.path().join("pm2-incident/inventory.toml");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::write(
        &user,
        DEFAULT_INVENTORY.replace("projectium.com\"", "user.example\""),
    )
    .unwrap();
    let mut c = bin(home.path(), config.path());
    c.args(["runbook", "check"]);
    let (code, text) = out(c);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("inventory user.example"), "{text}");

    // $PM2_INCIDENT_INVENTORY wins over the user config; a broken one names itself.
    let other = config.path().join("other.toml");
    std::fs::write(&other, "site = \n").unwrap();
    let mut c = bin(home.path(), config.path());
    c.args(["runbook", "check"])
        .env("PM2_INCIDENT_INVENTORY", &other);
    let (code, text) = out(c);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&other.display().to_string()), "{text}");
    // --inventory wins over both.
    let mut c = bin(home.path(), config.path());
    c.args(["runbook", "check", "--inventory", "example"])
        .env("PM2_INCIDENT_INVENTORY", &other);
    let (code, text) = out(c);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("inventory projectium.com"), "{text}");
}
