//! The shell guard: any text, under any context, classifies without panic or hang,
//! and every finding's offset is a character boundary inside the text.
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use pm2_incident_engine::guard::{analyze, classify, verdict_of};

fuzz_target!(|data: &[u8]| {
    let Some((sel, src)) = common::split(data) else {
        return;
    };
    let ctx = common::context(sel);
    let findings = analyze(src, &ctx, &Default::default());
    common::check_findings(src, &findings);
    // The one-line verdict is the fold of the findings, whichever way it is asked for.
    assert_eq!(classify(src, &ctx), verdict_of(&findings));
});
