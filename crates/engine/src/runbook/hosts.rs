//! The runbook each `[[host]]` is judged by: the inventory's own, or the file its
//! `inventory = "…"` names (another server runs other apps). Loading reads files; every
//! problem is a `file:line:col` error: a file that cannot be read points at the `inventory`
//! value in the listing inventory, a broken one at its own lines.
use std::path::{Path, PathBuf};

use super::error::{LoadError, Source};
use super::inventory::HostEntry;
use super::Runbook;

/// Where a host's inventory file is: relative paths are relative to the listing inventory's
/// directory (so the two files move together).
pub fn resolve(listing: Option<&Path>, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    listing
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(p))
        .unwrap_or_else(|| p.to_path_buf())
}

/// For each of `rb`'s `[[host]]` entries (in order): `Some(runbook)` when it names its own
/// inventory, loaded with the same procedure; `None` when the listing inventory applies.
/// `listing` is the listing inventory's path (`None`: the embedded example).
pub fn load_host_runbooks(
    rb: &Runbook,
    procedure: Option<&Path>,
    listing: Option<&Path>,
) -> Result<Vec<Option<Runbook>>, Vec<LoadError>> {
    let listing_text = listing.and_then(|p| crate::safe_fs::read_input_string(p).ok());
    let listing_name = listing
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| super::DEFAULT_INVENTORY_NAME.into());
    let at = |offset: usize, message: String| match &listing_text {
        Some(text) => Source {
            name: &listing_name,
            text,
        }
        .error(offset, message),
        None => LoadError {
            file: listing_name.clone(),
            line: 0,
            col: 0,
            message,
        },
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for h in &rb.inventory.host {
        let Some(file) = &h.inventory else {
            out.push(None);
            continue;
        };
        let path = resolve(listing, file.get_ref());
        match load_one(h, &path, procedure) {
            Ok(r) => out.push(Some(r)),
            Err(LoadFailure::Unreadable(why)) => errors.push(at(
                file.span().start,
                format!("[[host]] {}: {why}", h.dest.get_ref()),
            )),
            Err(LoadFailure::Invalid(e)) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

enum LoadFailure {
    Unreadable(String),
    Invalid(Vec<LoadError>),
}

fn load_one(h: &HostEntry, path: &Path, procedure: Option<&Path>) -> Result<Runbook, LoadFailure> {
    let text = crate::safe_fs::read_input_string(path)
        .map_err(|e| LoadFailure::Unreadable(format!("cannot read its inventory: {e}")))?;
    let name = path.display().to_string();
    let src = Source {
        name: &name,
        text: &text,
    };
    let proc_text;
    let proc_name;
    let procedure = match procedure {
        Some(p) => {
            proc_text = crate::safe_fs::read_input_string(p).map_err(|e| {
                LoadFailure::Unreadable(format!("cannot read the procedure {}: {e}", p.display()))
            })?;
            proc_name = p.display().to_string();
            Source {
                name: &proc_name,
                text: &proc_text,
            }
        }
        None => Source {
            name: super::DEFAULT_PROCEDURE_NAME,
            text: super::DEFAULT_PROCEDURE,
        },
    };
    let rb = Runbook::parse(procedure, src).map_err(LoadFailure::Invalid)?;
    // One level only: a server's own inventory describes that server, not a fleet.
    if let Some(inner) = rb.inventory.host.first() {
        return Err(LoadFailure::Invalid(vec![src.error(
            inner.dest.span().start,
            format!(
                "[[host]] in the inventory of host {}: a host's own inventory cannot list hosts",
                h.dest.get_ref()
            ),
        )]));
    }
    Ok(rb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_files_sit_beside_the_listing_inventory() {
        assert_eq!(
            resolve(Some(Path::new("/etc/p2i/inventory.toml")), "web1.toml"),
            PathBuf::from("/etc/p2i/web1.toml")
        );
        assert_eq!(
            resolve(Some(Path::new("/etc/p2i/inventory.toml")), "/srv/x.toml"),
            PathBuf::from("/srv/x.toml")
        );
        assert_eq!(
            resolve(Some(Path::new("inventory.toml")), "web1.toml"),
            PathBuf::from("web1.toml")
        );
    }
}
