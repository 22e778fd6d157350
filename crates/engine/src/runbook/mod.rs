//! The procedure and the inventory as data: model, loading, validation and
//! `${var}` substitution. Both default files are embedded in the binary.
pub mod discover;
pub mod error;
pub mod expand;
pub mod hosts;
pub mod inventory;
pub mod model;
pub mod predicates;
pub mod roles;
pub mod validate;
pub mod vars;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use error::{LoadError, Source};
pub use inventory::{Deployment, Environment, HealthTarget, Inventory};
pub use model::{Command, Effect, Outcome, Procedure, Risk, Step};
pub use vars::{VarValue, Vars};

pub const DEFAULT_PROCEDURE: &str = include_str!("../../../../runbook/pm2-incident-response.toml");
pub const DEFAULT_INVENTORY: &str = include_str!("../../../../runbook/inventory.toml");
pub const DEFAULT_PROCEDURE_NAME: &str = "runbook/pm2-incident-response.toml";
pub const DEFAULT_INVENTORY_NAME: &str = "runbook/inventory.toml";

/// A validated procedure with the inventory its variables resolve against.
#[derive(Debug, Clone)]
pub struct Runbook {
    pub procedure: Procedure,
    pub inventory: Inventory,
    pub vars: Vars,
    /// SHA-256 of the procedure file, recorded in journals.
    pub procedure_sha256: String,
}

impl Runbook {
    /// The embedded defaults (the source runbook's values). They are checked by
    /// the test suite, so this cannot fail in a released binary.
    pub fn embedded() -> Result<Runbook, Vec<LoadError>> {
        Runbook::parse(
            Source {
                name: DEFAULT_PROCEDURE_NAME,
                text: DEFAULT_PROCEDURE,
            },
            Source {
                name: DEFAULT_INVENTORY_NAME,
                text: DEFAULT_INVENTORY,
            },
        )
    }

    /// Load from files, each falling back to the embedded default when `None`.
    pub fn load(
        procedure: Option<&Path>,
        inventory: Option<&Path>,
    ) -> Result<Runbook, Vec<LoadError>> {
        let read = |p: &Path| {
            crate::safe_fs::read_input_string(p).map_err(|e| {
                vec![LoadError {
                    file: p.display().to_string(),
                    line: 0,
                    col: 0,
                    message: format!("cannot read: {e}"),
                }]
            })
        };
        let (pname, ptext) = match procedure {
            Some(p) => (p.display().to_string(), read(p)?),
            None => (
                DEFAULT_PROCEDURE_NAME.to_string(),
                DEFAULT_PROCEDURE.to_string(),
            ),
        };
        let (iname, itext) = match inventory {
            Some(p) => (p.display().to_string(), read(p)?),
            None => (
                DEFAULT_INVENTORY_NAME.to_string(),
                DEFAULT_INVENTORY.to_string(),
            ),
        };
        Runbook::parse(
            Source {
                name: &pname,
                text: &ptext,
            },
            Source {
                name: &iname,
                text: &itext,
            },
        )
    }

    /// Parse and validate both files; every problem found is returned, not just the first.
    pub fn parse(procedure: Source, inventory: Source) -> Result<Runbook, Vec<LoadError>> {
        let p = toml::from_str::<Procedure>(procedure.text).map_err(|e| procedure.toml_error(&e));
        let i = toml::from_str::<Inventory>(inventory.text).map_err(|e| inventory.toml_error(&e));
        let (p, i) = match (p, i) {
            (Ok(p), Ok(i)) => (expand::instantiate(p, &i), i),
            (p, i) => return Err(p.err().into_iter().chain(i.err()).collect()),
        };
        let mut errors = validate::procedure(procedure, &p);
        errors.extend(validate::inventory(inventory, &i));
        let vars = vars::inventory_vars(&i);
        errors.extend(validate::cross(procedure, &p, &i, &vars));
        if !errors.is_empty() {
            errors.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
            return Err(errors);
        }
        Ok(Runbook {
            procedure_sha256: hex::encode(Sha256::digest(procedure.text.as_bytes())),
            procedure: p,
            inventory: i,
            vars,
        })
    }

    /// A command line with its variables filled in and shell-quoted.
    /// Validation guarantees every reference resolves.
    pub fn render(&self, template: &str) -> String {
        vars::substitute(template, &self.vars).unwrap_or_else(|_| template.to_string())
    }
}
