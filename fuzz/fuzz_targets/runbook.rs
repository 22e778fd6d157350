//! Runbook loading: a hostile procedure (with the shipped inventory) or inventory
//! (with the shipped procedure) loads or returns errors that point inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm2_incident_engine::runbook::{
    Runbook, Source, DEFAULT_INVENTORY, DEFAULT_INVENTORY_NAME, DEFAULT_PROCEDURE,
    DEFAULT_PROCEDURE_NAME,
};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let fuzzed = Source {
        name: "fuzzed.toml",
        text,
    };
    let (procedure, inventory) = if sel % 2 == 0 {
        (
            fuzzed,
            Source {
                name: DEFAULT_INVENTORY_NAME,
                text: DEFAULT_INVENTORY,
            },
        )
    } else {
        (
            Source {
                name: DEFAULT_PROCEDURE_NAME,
                text: DEFAULT_PROCEDURE,
            },
            fuzzed,
        )
    };
    if let Err(errors) = Runbook::parse(procedure, inventory) {
        assert!(!errors.is_empty());
        for e in errors.iter().filter(|e| e.file == "fuzzed.toml") {
            let lines = text.split('\n').count();
            assert!(e.line <= lines, "error at line {} of {lines}", e.line);
        }
    }
});
