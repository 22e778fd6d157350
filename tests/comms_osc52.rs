//! OSC 52 clipboard sequences byte for byte (plain and through tmux), the size cap, and the
//! base64 they carry against the RFC 4648 test vectors.
use pm2_incident::comms::base64::encode;
use pm2_incident::comms::osc52::{Osc52Error, MAX_SEQUENCE_BYTES};
use pm2_incident::comms::{clipboard_sequence, osc52, osc52_tmux};

#[test]
fn rfc4648_vectors() {
    for (plain, b64) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(encode(plain.as_bytes()), b64, "{plain:?}");
    }
}

#[test]
fn base64_covers_every_byte_and_the_whole_alphabet() {
    let all: Vec<u8> = (0..=255).collect();
    let e = encode(&all);
    assert!(
        e.starts_with("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"),
        "{e}"
    );
    assert!(e.ends_with("+/w=="), "{e}");
    assert_eq!(encode("Ünïcode ✓".as_bytes()), "w5xuw69jb2RlIOKckw==");
}

#[test]
fn plain_sequence_is_exact() {
    let s = osc52("Status: RESOLVED\n").unwrap();
    assert_eq!(s.as_bytes(), b"\x1b]52;c;U3RhdHVzOiBSRVNPTFZFRAo=\x07");
    assert_eq!(
        clipboard_sequence("hi", false).unwrap(),
        "\x1b]52;c;aGk=\x07"
    );
}

#[test]
fn tmux_passthrough_doubles_the_escape() {
    let s = osc52_tmux("hi").unwrap();
    assert_eq!(s.as_bytes(), b"\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\");
    assert_eq!(clipboard_sequence("hi", true).unwrap(), s);
    // Only the DCS opener, the doubled OSC escape and the terminator carry ESC.
    assert_eq!(s.matches('\x1b').count(), 4);
}

#[test]
fn oversized_text_is_refused_with_its_size() {
    // 76,794 bytes encode to 102,392; with the 8 framing bytes the sequence is exactly the cap.
    let at_limit = "a".repeat(76_794);
    assert_eq!(osc52(&at_limit).map(|s| s.len()), Ok(MAX_SEQUENCE_BYTES));
    assert!(
        osc52(&"a".repeat(76_795)).is_err(),
        "one more base64 quantum is over"
    );
    // The tmux wrapper's 11 extra bytes count too.
    assert!(osc52_tmux(&at_limit).is_err());

    let e = osc52(&"a".repeat(102_400)).unwrap_err();
    let Osc52Error::TooLarge {
        text_bytes,
        sequence_bytes,
        max,
    } = e.clone();
    assert_eq!(
        (text_bytes, sequence_bytes, max),
        (102_400, 136_544, 102_400)
    );
    let msg = e.to_string();
    assert!(
        msg.contains("136544-byte") && msg.contains("save it to a file"),
        "{msg}"
    );
}
