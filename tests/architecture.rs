//! The import direction, checked from the source: the engine's modules import only modules
//! declared above them in `crates/engine/src/lib.rs`, the engine never names the binary's
//! layers or terminal/CLI crates, and inside the binary `app` < `ui` < `tui` < `cmd`.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `pub mod x;` lines of a lib.rs, in order.
fn declared(lib: &Path) -> Vec<String> {
    std::fs::read_to_string(lib)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

fn rust_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            rust_files(&e.path(), out);
        }
    } else if p.is_file() && p.extension().is_some_and(|e| e == "rs") {
        out.push(p.to_path_buf());
    }
}

/// The files of module `m` under `src`: `m.rs` and/or `m/`.
fn module_files(src: &Path, m: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    rust_files(&src.join(format!("{m}.rs")), &mut out);
    rust_files(&src.join(m), &mut out);
    assert!(
        !out.is_empty(),
        "module {m} has no files under {}",
        src.display()
    );
    out
}

/// Every `crate::name` a file mentions (comments included: a doc link is a dependency too).
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        // `pm2_incident_engine::crate::` does not exist; skip `$crate::` in macros.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// Modules in `order` (a lib.rs) may use only those before them. Returns the violations.
fn check_layers(src: &Path, order: &[String]) -> Vec<String> {
    let mut bad = vec![];
    for (i, m) in order.iter().enumerate() {
        let allowed: BTreeSet<&str> = order[..i].iter().map(String::as_str).collect();
        for f in module_files(src, m) {
            let text = std::fs::read_to_string(&f).unwrap();
            for r in crate_refs(&text) {
                if r != *m && order.contains(&r) && !allowed.contains(r.as_str()) {
                    bad.push(format!(
                        "{}: `{m}` uses `crate::{r}`, declared below it",
                        f.display()
                    ));
                }
            }
        }
    }
    bad
}

#[test]
fn engine_modules_import_only_modules_above_them() {
    let src = root().join("crates/engine/src");
    let order = declared(&src.join("lib.rs"));
    assert!(order.len() >= 10, "engine modules: {order:?}");
    let bad = check_layers(&src, &order);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_engine_never_names_the_ui_the_terminal_or_the_command_line() {
    let src = root().join("crates/engine/src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut bad = vec![];
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for word in ["ratatui", "crossterm", "clap::", "pm2_incident::"] {
            if text.contains(word) {
                bad.push(format!("{}: mentions `{word}`", f.display()));
            }
        }
        for layer in ["app", "ui", "tui", "cmd"] {
            if crate_refs(&text).contains(layer) {
                bad.push(format!("{}: uses `crate::{layer}`", f.display()));
            }
        }
    }
    let manifest = std::fs::read_to_string(root().join("crates/engine/Cargo.toml")).unwrap();
    for dep in ["ratatui", "crossterm", "clap"] {
        if manifest.lines().any(|l| l.trim_start().starts_with(dep)) {
            bad.push(format!("crates/engine/Cargo.toml depends on {dep}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn binary_layers_point_down_app_ui_tui_cmd() {
    let src = root().join("src");
    let order = declared(&src.join("lib.rs"));
    assert_eq!(order, ["app", "ui", "tui", "cmd"]);
    let bad = check_layers(&src, &order);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_checker_sees_a_violation() {
    // The check itself must be able to fail: a reference upwards is found.
    let refs = crate_refs("use crate::drill::x; // and crate::ui::draw\nfoo!($crate::bar)");
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["drill".to_string(), "ui".to_string()]
    );
}
