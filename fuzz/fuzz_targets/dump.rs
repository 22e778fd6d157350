//! `dump.pm2` (the saved list): any bytes parse or fail with an error that gives a
//! position, never the content (dump.pm2 holds every app's environment).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm2_incident_engine::pm2::dump::parse_saved_list;

fuzz_target!(|data: &[u8]| {
    match parse_saved_list(data) {
        Ok((entries, _unnamed)) => assert!(entries.iter().all(|e| !e.name.is_empty())),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("line"), "error without a position: {msg}");
        }
    }
});
