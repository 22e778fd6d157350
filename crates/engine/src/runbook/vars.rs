//! `${name}` references from the procedure to inventory values, and shell quoting
//! so a substituted value is always exactly one shell word (a list: one word each).
use std::collections::BTreeMap;

use super::inventory::{join_url, Inventory};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    One(String),
    /// Expands to several words (e.g. a deployment's process names).
    Many(Vec<String>),
}

pub type Vars = BTreeMap<String, VarValue>;

/// A `${name}` in a template, with its byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub name: String,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    Unknown(VarRef),
    Unterminated { offset: usize },
}

impl std::fmt::Display for VarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarError::Unknown(r) => write!(f, "unknown variable `${{{}}}`", r.name),
            VarError::Unterminated { .. } => write!(f, "unterminated `${{`"),
        }
    }
}

/// The variables an inventory defines.
pub fn inventory_vars(inv: &Inventory) -> Vars {
    let mut v = Vars::new();
    let one = |s: &str| VarValue::One(s.to_string());
    v.insert("site".into(), one(&inv.site));
    v.insert("ssh_target".into(), one(&inv.ssh_target));
    v.insert("pm2_service".into(), one(&inv.pm2_service));
    for d in &inv.deployment {
        let id = d.id.get_ref();
        v.insert(format!("{id}.dir"), one(&d.dir));
        v.insert(format!("{id}.config"), one(&d.config));
        v.insert(format!("{id}.app"), one(d.app.get_ref()));
        // The first process listed: the one the runbook shows and tails (the API).
        if let Some(first) = d.processes.get_ref().first() {
            v.insert(format!("{id}.primary"), one(first));
        }
        v.insert(
            format!("{id}.processes"),
            VarValue::Many(d.processes.get_ref().clone()),
        );
        // This deployment's ecosystem file, then those of the same app's other
        // deployments (the configs one repository holds).
        let mut configs = vec![d.config.clone()];
        for o in super::roles::restore_order(inv) {
            if o.app.get_ref() == d.app.get_ref() && !configs.contains(&o.config) {
                configs.push(o.config.clone());
            }
        }
        v.insert(format!("{id}.app_configs"), VarValue::Many(configs));
        if let Some(public) = d.public() {
            v.insert(format!("{id}.public_url"), one(public));
        }
        // Without a public URL the runbook's checks go to the app's own port.
        if let Some(base) = d.base_url() {
            v.insert(
                format!("{id}.ready_url"),
                one(&join_url(base, &d.ready_path)),
            );
            v.insert(format!("{id}.ping_url"), one(&join_url(base, &d.ping_path)));
        }
        if let Some(local) = &d.local_url {
            v.insert(
                format!("{id}.local_ready_url"),
                one(&join_url(local, &d.ready_path)),
            );
        }
    }
    v
}

/// Every `${...}` in `template` (`$${` is a literal `${`).
pub fn references(template: &str) -> Result<Vec<VarRef>, VarError> {
    let mut out = Vec::new();
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'$') && b.get(i + 2) == Some(&b'{') {
            i += 3;
            continue;
        }
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            let start = i + 2;
            let end = template[start..]
                .find('}')
                .ok_or(VarError::Unterminated { offset: i })?;
            out.push(VarRef {
                name: template[start..start + end].to_string(),
                offset: i,
            });
            i = start + end + 1;
            continue;
        }
        i += 1;
    }
    Ok(out)
}

/// Replace every `${name}` with its shell-quoted value.
pub fn substitute(template: &str, vars: &Vars) -> Result<String, VarError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = 0;
    for r in references(template)? {
        let value = vars
            .get(&r.name)
            .ok_or_else(|| VarError::Unknown(r.clone()))?;
        out.push_str(&unescape(&template[rest..r.offset]));
        match value {
            VarValue::One(s) => out.push_str(&shell_quote(s)),
            VarValue::Many(list) => {
                let words: Vec<String> = list.iter().map(|s| shell_quote(s)).collect();
                out.push_str(&words.join(" "));
            }
        }
        rest = r.offset + 2 + r.name.len() + 1;
    }
    out.push_str(&unescape(&template[rest..]));
    Ok(out)
}

fn unescape(s: &str) -> String {
    s.replace("$${", "${")
}

/// Quote `s` as one POSIX shell word; plain words are left as they are so
/// commands read like the runbook.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), VarValue::One(v.to_string())))
            .collect()
    }

    #[test]
    fn plain_values_stay_readable() {
        let v = vars(&[("d", "/var/www/x.com")]);
        assert_eq!(substitute("cd ${d}", &v).unwrap(), "cd /var/www/x.com");
    }

    #[test]
    fn lists_become_one_word_each() {
        let mut v = Vars::new();
        v.insert("p".into(), VarValue::Many(vec!["a".into(), "b c".into()]));
        assert_eq!(
            substitute("pm2 restart ${p}", &v).unwrap(),
            "pm2 restart a 'b c'"
        );
    }

    #[test]
    fn literal_dollar_brace_escape() {
        let v = Vars::new();
        assert_eq!(substitute("echo $${HOME}", &v).unwrap(), "echo ${HOME}");
        assert_eq!(substitute("echo $(date)", &v).unwrap(), "echo $(date)");
    }

    #[test]
    fn unknown_and_unterminated() {
        let v = Vars::new();
        assert_eq!(
            substitute("a ${nope} b", &v),
            Err(VarError::Unknown(VarRef {
                name: "nope".into(),
                offset: 2
            }))
        );
        assert_eq!(
            substitute("a ${nope", &v),
            Err(VarError::Unterminated { offset: 2 })
        );
    }
}
