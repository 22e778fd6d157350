//! One GET with a capped body: the only place a health body is read off the wire.
use reqwest::header::CONTENT_TYPE;
use reqwest::Client;

/// Default cap on a health body. A runbook health body is well under 1 KiB.
pub const DEFAULT_BODY_CAP: usize = 64 * 1024;

/// What came back, with the body cut at the cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    /// At most the cap's worth of bytes.
    pub body: Vec<u8>,
    /// The body went past the cap (or broke off mid-way), so `body` is a prefix.
    pub truncated: bool,
}

/// GET `url` and read at most `cap` bytes of its body, chunk by chunk. Reading stops at
/// the cap and the response is dropped (closing the connection), so an endless body
/// costs at most the cap plus one chunk. `on_status` learns the status as soon as the
/// headers arrive, so a caller that times out mid-body still knows it.
pub async fn fetch(
    client: &Client,
    url: &str,
    cap: usize,
    on_status: &mut Option<u16>,
) -> Result<Fetched, reqwest::Error> {
    let mut resp = client.get(url).send().await?;
    let status = resp.status().as_u16();
    *on_status = Some(status);
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let hint = resp.content_length().unwrap_or(0).min(cap as u64) as usize;
    let mut body = Vec::with_capacity(hint);
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            // The status line arrived; a body that breaks off is judged as a cut body
            // (a 502 stays a 502, a 200 becomes "not JSON") rather than as a transport error.
            Err(_) => {
                truncated = true;
                break;
            }
        }
    }
    Ok(Fetched {
        status,
        content_type,
        body,
        truncated,
    })
}
