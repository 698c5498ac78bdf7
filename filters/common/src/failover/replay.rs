//! What a retry replays: the request's headers and its body, kept as the body streams through
//! (nothing is held back from the upstream) up to a limit. A body that outgrows the limit is
//! dropped at once, and the request is then not retried (as Envoy does when a request
//! outgrows its buffer limit).

use super::captured::CapturedHeaders;

/// The replay state of one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub enum Replay {
    /// The request may not be retried (its method is not configured).
    #[default]
    No,
    /// Headers kept; the body is still arriving (`body` is what came so far).
    Buffering {
        /// Replayable request headers.
        headers: CapturedHeaders,
        /// The body so far.
        body: Vec<u8>,
    },
    /// Headers and the whole body kept: ready to replay.
    Ready {
        /// Replayable request headers.
        headers: CapturedHeaders,
        /// The whole body (empty for a bodiless request).
        body: Vec<u8>,
    },
    /// The body outgrew the limit: not retried.
    TooLarge,
}

impl Replay {
    /// A retryable request's replay: `Ready` if it has no body (`end_of_stream` on its
    /// headers), else `Buffering`.
    pub fn start(headers: CapturedHeaders, end_of_stream: bool) -> Self {
        if end_of_stream {
            Replay::Ready {
                headers,
                body: Vec::new(),
            }
        } else {
            Replay::Buffering {
                headers,
                body: Vec::new(),
            }
        }
    }

    /// Adds a chunk of request body, dropping everything once the body outgrows `limit`
    /// bytes; `end` (the last chunk) makes it ready.
    pub fn buffer(&mut self, chunk: &[u8], end: bool, limit: usize) {
        let Replay::Buffering { headers, body } = self else {
            return;
        };
        if body.len().saturating_add(chunk.len()) > limit {
            *self = Replay::TooLarge;
            return;
        }
        body.extend_from_slice(chunk);
        if end {
            let (headers, body) = (std::mem::take(headers), std::mem::take(body));
            *self = Replay::Ready { headers, body };
        }
    }

    /// Why this request cannot be replayed, as the `reason` of `failover_not_retried_total`
    /// (`None` if it can, or was never meant to be).
    pub fn not_ready_reason(&self) -> Option<&'static str> {
        match self {
            Replay::Buffering { .. } => Some("body_incomplete"),
            Replay::TooLarge => Some("body_too_large"),
            Replay::No | Replay::Ready { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests;
