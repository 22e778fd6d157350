//! Journal lines and whole journals: any bytes decode or fail without panic, and a
//! line that decodes writes back to a line that decodes to the same entry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm2_incident_engine::journal::{line, reader};

fuzz_target!(|data: &[u8]| {
    let _ = reader::parse(data);
    if let Ok(d) = line::decode(data) {
        // The writer only ever writes hex hashes as `prev`; other text is the reader's concern.
        if !d.prev.bytes().all(|b| b.is_ascii_hexdigit()) {
            return;
        }
        let text = line::encode(d.seq, d.ts, &d.prev, &d.event);
        let again = line::decode(text.as_bytes()).expect("an encoded line decodes");
        assert_eq!(again.seq, d.seq);
        assert_eq!(again.prev, d.prev);
        assert_eq!(again.ts, line::truncate_ms(d.ts));
        assert_eq!(again.event, d.event);
    }
});
