//! `getMonitorData` replies and `pm2 jlist` output: any bytes parse or fail with an
//! error, and the error's text never quotes the input (it may hold env secrets).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm2_incident_engine::pm2::{parse_jlist_output, parse_process_list};

fuzz_target!(|data: &[u8]| {
    if let Err(e) = parse_process_list(data) {
        let _ = e.to_string();
    }
    let _ = parse_jlist_output(data);
});
