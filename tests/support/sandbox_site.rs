//! The sandbox as a site: an inventory that points at a running [`Pm2Fixture`]'s
//! apps, with `gateway.js` standing in for NGINX (502 when an app is down).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::pm2_fixture::{free_port, sandbox_dir, wait_tcp, Pm2Fixture};

pub struct SandboxSite {
    gateway: Child,
    /// Public (through the gateway) ports per HTTP app.
    pub public_ports: Vec<(&'static str, u16)>,
    pub inventory: PathBuf,
    _dir: tempfile::TempDir,
}

impl SandboxSite {
    pub fn new(fx: &Pm2Fixture) -> SandboxSite {
        let apps = [
            "flyer-crawler-api",
            "flyer-crawler-api-test",
            "stock-alert-api",
        ];
        let public_ports: Vec<(&'static str, u16)> =
            apps.iter().map(|a| (*a, free_port())).collect();
        let args: Vec<String> = public_ports
            .iter()
            .map(|(a, p)| format!("{p}:{}", fx.ports[a]))
            .collect();
        let gateway = Command::new("node")
            .arg(sandbox_dir().join("gateway.js"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node gateway.js");
        for (_, p) in &public_ports {
            wait_tcp(*p, Duration::from_secs(10));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let inventory = dir.path().join("inventory.toml");
        let public = |app: &str| public_ports.iter().find(|(a, _)| *a == app).unwrap().1;
        let sandbox = sandbox_dir().display().to_string();
        let text = format!(
            r#"site = "sandbox"
ssh_target = "nobody@localhost"
pm2_service = "pm2-sandbox"
high_restart_threshold = 10
health_timeout_ms = 2000

[[app]]
id = "flyer-crawler"
name = "Flyer Crawler"

[[app]]
id = "stock-alert"
name = "Stock Alert"

[[deployment]]
id = "flyer-crawler-prod"
app = "flyer-crawler"
environment = "production"
processes = ["flyer-crawler-api", "flyer-crawler-worker", "flyer-crawler-analytics-worker"]
config = "ecosystem.config.cjs"
dir = "{sandbox}"
public_url = "http://127.0.0.1:{}"
local_url = "http://127.0.0.1:{}"

[[deployment]]
id = "flyer-crawler-test"
app = "flyer-crawler"
environment = "test"
processes = ["flyer-crawler-api-test", "flyer-crawler-worker-test", "flyer-crawler-analytics-worker-test"]
config = "ecosystem-test.config.cjs"
dir = "{sandbox}"
public_url = "http://127.0.0.1:{}"
local_url = "http://127.0.0.1:{}"

[[deployment]]
id = "stock-alert-prod"
app = "stock-alert"
environment = "production"
processes = ["stock-alert-*"]
config = "stock-alert.config.cjs"
dir = "{sandbox}"
public_url = "http://127.0.0.1:{}"

[[restore]]
process = "flyer-crawler-api"
rationale = "Production API - highest user impact"
[[restore]]
process = "flyer-crawler-worker"
rationale = "Production background jobs"
[[restore]]
process = "flyer-crawler-analytics-worker"
rationale = "Production analytics"
[[restore]]
process = "stock-alert-*"
rationale = "Other production apps"
[[restore]]
process = "flyer-crawler-api-test"
rationale = "Test environment"
[[restore]]
process = "flyer-crawler-worker-test"
rationale = "Test background jobs"
[[restore]]
process = "flyer-crawler-analytics-worker-test"
rationale = "Test analytics"
"#,
            public("flyer-crawler-api"),
            fx.ports["flyer-crawler-api"],
            public("flyer-crawler-api-test"),
            fx.ports["flyer-crawler-api-test"],
            public("stock-alert-api"),
        );
        std::fs::write(&inventory, text).expect("write sandbox inventory");
        SandboxSite {
            gateway,
            public_ports,
            inventory,
            _dir: dir,
        }
    }
}

impl Drop for SandboxSite {
    fn drop(&mut self) {
        // Our own child, by pid.
        let _ = self.gateway.kill();
        let _ = self.gateway.wait();
    }
}
