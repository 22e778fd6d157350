//! `lint --format sarif`: SARIF 2.1.0, the format code-scanning UIs read.

use serde_json::{json, Value};

use super::{LintFinding, Severity};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// One run of the `pm2-incident` tool; a rule per finding kind, a result per finding.
pub fn report(findings: &[LintFinding]) -> Value {
    let mut rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(a) = &f.safe_alternative {
                text.push_str(&format!(" (instead: {a})"));
            }
            let mut r = json!({
                "ruleId": f.rule,
                "ruleIndex": rules.iter().position(|r| *r == f.rule).unwrap_or(0),
                "level": match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.file) },
                        "region": { "startLine": f.line.max(1), "startColumn": f.col.max(1) }
                    }
                }],
                "properties": { "class": f.class },
            });
            if !f.command.is_empty() {
                r["properties"]["command"] = json!(f.command);
            }
            r
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "pm2-incident",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| json!({
                    "id": r,
                    "shortDescription": { "text": rule_text(r) },
                })).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn rule_text(rule: &str) -> &'static str {
    match rule {
        "guard" => "A PM2 or process-killing command judged by the runbook's guard",
        "test-suffix" => "Test deployments select processes by the -test suffix",
        "prod-whitelist" => "Production deletions use an explicit list of names",
        "ecosystem" => "Ecosystem file app names match the expected names",
        "parse" => "The file could not be fully parsed",
        "npm-run" => "An npm script that runs a caution or dangerous script",
        _ => "pm2-incident lint rule",
    }
}

/// A relative path as a URI reference (percent-encoding what a URI may not hold).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
