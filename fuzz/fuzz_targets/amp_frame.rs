//! AMP frames from a hostile or corrupt daemon socket: reading never panics, never
//! allocates past the limit it is given, and a frame that decodes re-encodes to the
//! bytes it was read from. Each decoded reply body goes through every RPC decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm2_incident_engine::pm2::amp::{encode_frame, read_frame, Arg};
use pm2_incident_engine::pm2::{decode_reply, ReadCall};

/// Small, so announced lengths over it are exercised (the real default is 256 MiB).
const LIMIT: usize = 64 * 1024;

fn raw(a: &Arg) -> Vec<u8> {
    match a {
        Arg::Json(b) => [b"j:".as_slice(), b].concat(),
        Arg::Str(s) => [b"s:".as_slice(), s.as_bytes()].concat(),
        Arg::Blob(b) => b.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = data;
    while let Ok(Some(args)) = read_frame(&mut r, LIMIT) {
        let consumed = data.len() - r.len();
        let bytes: Vec<Vec<u8>> = args.iter().map(raw).collect();
        let refs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        let again = encode_frame(&refs).expect("a decoded frame re-encodes");
        assert!(data[..consumed].ends_with(&again), "re-encoding differs");
        for a in &args {
            if let Arg::Json(body) = a {
                for call in ReadCall::ALL {
                    let _ = decode_reply(call, body);
                }
            }
        }
    }
});
