//! `lint` of a Makefile: no panic or hang, and every finding sits on a line of
//! the file at a column inside that line.
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use pm2_incident_engine::guard::lint::{lint_text, FileKind};

fuzz_target!(|data: &[u8]| {
    let Some((sel, src)) = common::split(data) else {
        return;
    };
    let ctx = common::context(sel);
    let findings = lint_text("Makefile", src, FileKind::Makefile, &ctx);
    common::check_lint(src, &findings);
});
