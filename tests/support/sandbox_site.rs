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
        // The shipped inventory, pointed at this sandbox: same apps, processes and
        // restore priority; local directories, ports and the stock-alert config name.
        let replacements = [
            ("/var/www/flyer-crawler.projectium.com", sandbox.clone()),
            (
                "/var/www/flyer-crawler-test.projectium.com",
                sandbox.clone(),
            ),
            ("/var/www/stock-alert.projectium.com", sandbox.clone()),
            (
                "https://flyer-crawler.projectium.com",
                format!("http://127.0.0.1:{}", public("flyer-crawler-api")),
            ),
            (
                "http://localhost:3001",
                format!("http://127.0.0.1:{}", fx.ports["flyer-crawler-api"]),
            ),
            (
                "https://flyer-crawler-test.projectium.com",
                format!("http://127.0.0.1:{}", public("flyer-crawler-api-test")),
            ),
            (
                "http://localhost:3002",
                format!("http://127.0.0.1:{}", fx.ports["flyer-crawler-api-test"]),
            ),
            (
                "https://stock-alert.projectium.com",
                format!("http://127.0.0.1:{}", public("stock-alert-api")),
            ),
            (
                "config = \"ecosystem.config.cjs\"\nconfig_note",
                "config = \"stock-alert.config.cjs\"\nconfig_note".to_string(),
            ),
        ];
        let mut text = pm2_incident::runbook::DEFAULT_INVENTORY.to_string();
        for (from, to) in replacements {
            assert!(
                text.contains(from),
                "the shipped inventory no longer has {from}"
            );
            text = text.replace(from, &to);
        }
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
