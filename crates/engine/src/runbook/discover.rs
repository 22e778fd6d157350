//! Where the inventory comes from, in order: `--inventory FILE` (or `example`, the
//! shipped seed inventory), `$PM2_INCIDENT_INVENTORY`,
//! `$XDG_CONFIG_HOME/pm2-incident/inventory.toml` (else `~/.config/…`),
//! `/etc/pm2-incident/inventory.toml`. The shipped example is never used unasked.
use std::path::{Path, PathBuf};

/// What `--inventory example` names.
pub const EXAMPLE: &str = "example";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryChoice {
    /// A file, and which rule found it.
    File { path: PathBuf, how: Found },
    /// The shipped example (the source runbook's site).
    Example,
    /// Nothing configured.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Flag,
    EnvVar,
    UserConfig,
    SystemConfig,
}

/// The per-user location (`init` writes here by default).
pub fn user_path() -> Option<PathBuf> {
    user_path_from(&|k| std::env::var_os(k).map(PathBuf::from))
}

fn user_path_from(get: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    let nonempty = |k: &str| get(k).filter(|p| !p.as_os_str().is_empty());
    nonempty("XDG_CONFIG_HOME")
        .or_else(|| nonempty("HOME").map(|h| h.join(".config")))
        .map(|c| c.join("pm2-incident/inventory.toml"))
}

pub const SYSTEM_PATH: &str = "/etc/pm2-incident/inventory.toml";

/// Apply the order. `exists` is injectable for tests.
pub fn choose(
    flag: Option<&Path>,
    get: &dyn Fn(&str) -> Option<PathBuf>,
    exists: &dyn Fn(&Path) -> bool,
) -> InventoryChoice {
    if let Some(f) = flag {
        if f.as_os_str() == EXAMPLE {
            return InventoryChoice::Example;
        }
        return InventoryChoice::File {
            path: f.to_path_buf(),
            how: Found::Flag,
        };
    }
    if let Some(p) = get("PM2_INCIDENT_INVENTORY").filter(|p| !p.as_os_str().is_empty()) {
        if p.as_os_str() == EXAMPLE {
            return InventoryChoice::Example;
        }
        // Named explicitly: a missing file is an error the loader reports.
        return InventoryChoice::File {
            path: p,
            how: Found::EnvVar,
        };
    }
    if let Some(p) = user_path_from(get).filter(|p| exists(p)) {
        return InventoryChoice::File {
            path: p,
            how: Found::UserConfig,
        };
    }
    let sys = PathBuf::from(SYSTEM_PATH);
    if exists(&sys) {
        return InventoryChoice::File {
            path: sys,
            how: Found::SystemConfig,
        };
    }
    InventoryChoice::None
}

/// From the process environment and file system.
pub fn discover(flag: Option<&Path>) -> InventoryChoice {
    choose(flag, &|k| std::env::var_os(k).map(PathBuf::from), &|p| {
        p.is_file()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<PathBuf> {
        let m: HashMap<String, PathBuf> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), PathBuf::from(v)))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn order() {
        let all = |_: &Path| true;
        let none = |_: &Path| false;
        let e = env(&[
            ("PM2_INCIDENT_INVENTORY", "/e.toml"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(
            choose(Some(Path::new("/f.toml")), &e, &all),
            InventoryChoice::File {
                path: "/f.toml".into(),
                how: Found::Flag
            }
        );
        assert_eq!(
            choose(Some(Path::new("example")), &e, &all),
            InventoryChoice::Example
        );
        assert_eq!(
            choose(None, &e, &all),
            InventoryChoice::File {
                path: "/e.toml".into(),
                how: Found::EnvVar
            }
        );
        let e = env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(
            choose(None, &e, &all),
            InventoryChoice::File {
                path: "/x/pm2-incident/inventory.toml".into(),
                how: Found::UserConfig
            }
        );
        let e = env(&[("HOME", "/h")]);
        assert_eq!(
            choose(None, &e, &all),
            InventoryChoice::File {
                path: "/h/.config/pm2-incident/inventory.toml".into(),
                how: Found::UserConfig
            }
        );
        let sys = |p: &Path| p == Path::new(SYSTEM_PATH);
        assert_eq!(
            choose(None, &e, &sys),
            InventoryChoice::File {
                path: SYSTEM_PATH.into(),
                how: Found::SystemConfig
            }
        );
        assert_eq!(choose(None, &e, &none), InventoryChoice::None);
    }
}
