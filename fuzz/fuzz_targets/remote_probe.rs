//! What a server prints back over ssh (the probe's facts, the saved list's bytes after its
//! mark, `node=`/`tcp=` lines, `init --host`'s file list): any bytes parse or fail with an
//! error, never a panic; a parsed home is absolute.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm2_incident_engine::remote::{nodes, probe};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = probe::parse_all(data) {
        assert!(p.facts.home.is_absolute());
    }
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.lines().collect();
    let _ = nodes::parse(&lines);
    let (files, _) = pm2_incident_engine::init::remote::parse_files(&text, 3);
    assert!(files.len() <= lines.len());
});
