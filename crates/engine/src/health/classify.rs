//! Client errors → verdicts, by walking the error's source chain. The message kept for
//! `Verdict::Error` carries no URL (it may hold credentials) and never a body.
use std::error::Error as StdError;
use std::io;

use super::verdict::Verdict;

/// Longest error message kept.
const MAX_MESSAGE: usize = 200;

/// The verdict for a request that got no response.
pub fn classify(err: &reqwest::Error) -> Verdict {
    if err.is_timeout() {
        return Verdict::Timeout;
    }
    // reqwest wraps every resolver failure (getaddrinfo or hickory) in its DnsError.
    if err.is_dns() {
        return Verdict::DnsFailure;
    }
    let chain = chain(err);
    let mut invalid_data = false;
    for e in &chain {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => return Verdict::Refused,
                io::ErrorKind::TimedOut => return Verdict::Timeout,
                io::ErrorKind::InvalidData => invalid_data = true,
                _ => {}
            }
        }
    }
    // Sources only: the outermost error's text holds the URL, which may say anything.
    let text = chain_text(&chain[1..]).to_ascii_lowercase();
    if is_dns_text(&text) {
        return Verdict::DnsFailure;
    }
    // rustls fails the connect step with io::Error(InvalidData, rustls::Error), e.g.
    // "received corrupt message of type InvalidContentType" when https meets plain HTTP.
    let https = err.url().is_some_and(|u| u.scheme() == "https");
    if (err.is_connect() && https && invalid_data) || is_tls_text(&text) {
        return Verdict::TlsFailure;
    }
    if err.is_redirect() {
        return Verdict::Error {
            message: "too many redirects".into(),
        };
    }
    if err.is_builder() {
        return Verdict::Error {
            message: "invalid URL".into(),
        };
    }
    Verdict::Error {
        message: message(err),
    }
}

/// The error and its sources, outermost first. `io::Error` hides what it wraps from
/// `source()` (it skips to the inner error's source), so descend through `get_ref` too:
/// that is where rustls's error sits.
fn chain(err: &reqwest::Error) -> Vec<&(dyn StdError + 'static)> {
    let mut out: Vec<&(dyn StdError + 'static)> = vec![err];
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push(e);
        cur = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
        if out.len() > 32 {
            break;
        }
    }
    out
}

fn chain_text(chain: &[&(dyn StdError + 'static)]) -> String {
    let mut parts: Vec<String> = chain.iter().map(|e| e.to_string()).collect();
    // A wrapping io::Error displays as what it wraps.
    parts.dedup();
    parts.join(": ")
}

// Fallbacks for resolvers that do not go through reqwest's DnsError.
fn is_dns_text(text: &str) -> bool {
    [
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no record found",
        "nodename nor servname",
    ]
    .iter()
    .any(|w| text.contains(w))
}

// Fallback by rustls's stable phrases ("invalid peer certificate: UnknownIssuer",
// "received fatal alert: HandshakeFailure", "received corrupt message ...").
fn is_tls_text(text: &str) -> bool {
    [
        "tls",
        "certificate",
        "corrupt message",
        "handshake",
        "invalidcontenttype",
        "peer sent no certificates",
        "fatal alert",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// The source chain's messages without the URL, bounded and free of control characters.
fn message(err: &reqwest::Error) -> String {
    let text = match err.source() {
        Some(_) => {
            let c = chain(err);
            chain_text(&c[1..])
        }
        None => "request failed".to_string(),
    };
    let mut out: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE)
        .collect();
    if text.chars().count() > MAX_MESSAGE {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases() {
        assert!(is_dns_text(
            "dns error: failed to lookup address information: name or service not known"
        ));
        assert!(!is_dns_text("tcp connect error: connection refused"));
        assert!(is_tls_text("invalid peer certificate: unknownissuer"));
        assert!(is_tls_text("received fatal alert: handshakefailure"));
        assert!(!is_tls_text("tcp connect error: connection reset by peer"));
    }
}
