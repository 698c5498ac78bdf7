//! W3C Trace Context (`traceparent`) and `x-request-id`, from random bytes the filter supplies.
//!
//! A proxy is one hop of the trace: it keeps an incoming trace id and flags and names itself
//! as the new parent (a fresh span id) for the upstream; with no valid incoming header it starts
//! a trace (random ids, flags `01` = sampled). Format (version `00`):
//! `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lowercase, ids not all zero.

/// Random bytes one request may need: trace id, span id, request id.
pub const RANDOM_BYTES: usize = 16 + 8 + 16;

/// A parsed or generated trace context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// 16 bytes, not all zero.
    pub trace_id: [u8; 16],
    /// 8 bytes, not all zero: the span that is the parent of the next hop.
    pub parent_id: [u8; 8],
    /// Trace flags (bit 0: sampled).
    pub flags: u8,
}

impl TraceParent {
    /// Parses a `traceparent` value; `None` if it is not valid (wrong shape, uppercase hex,
    /// version `ff`, all-zero ids). A version above `00` is accepted if its first four fields
    /// are shaped as in `00`, as the spec asks of forward-compatible parsers.
    pub fn parse(value: &str) -> Option<Self> {
        let mut fields = value.trim().split('-');
        let (version, trace, parent, flags) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        let version = hex_exact::<1>(version)?[0];
        if version == 0xff || (version == 0 && fields.next().is_some()) {
            return None;
        }
        let trace_id = hex_exact::<16>(trace)?;
        let parent_id = hex_exact::<8>(parent)?;
        let flags = hex_exact::<1>(flags)?[0];
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            parent_id,
            flags,
        })
    }

    /// A new trace from `random` (trace id, then span id): sampled, ids never all zero.
    pub fn start(random: &[u8; 24]) -> Self {
        let mut trace_id = [0u8; 16];
        trace_id.copy_from_slice(&random[..16]);
        let mut parent_id = [0u8; 8];
        parent_id.copy_from_slice(&random[16..]);
        Self {
            trace_id: non_zero(trace_id),
            parent_id: non_zero(parent_id),
            flags: 0x01,
        }
    }

    /// The context for the next hop: same trace and flags, `span_id` as the new parent.
    pub fn child(&self, span_id: [u8; 8]) -> Self {
        Self {
            parent_id: non_zero(span_id),
            ..*self
        }
    }

    /// The trace id as 32 lowercase hex digits (what the access log shows).
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The header value, version `00`.
    pub fn header(&self) -> String {
        let mut out = String::with_capacity(55);
        out.push_str("00-");
        push_hex(&mut out, &self.trace_id);
        out.push('-');
        push_hex(&mut out, &self.parent_id);
        out.push('-');
        push_hex(&mut out, &[self.flags]);
        out
    }
}

/// The `traceparent` to send upstream given the incoming value (if any) and [`RANDOM_BYTES`]'
/// first 24 random bytes: the incoming trace continued with a new span, or a new trace.
pub fn next_hop(incoming: Option<&str>, random: &[u8; 24]) -> TraceParent {
    let mut span = [0u8; 8];
    span.copy_from_slice(&random[16..]);
    match incoming.and_then(TraceParent::parse) {
        Some(parent) => parent.child(span),
        None => TraceParent::start(random),
    }
}

/// A random (version 4) UUID from 16 random bytes, lowercase `8-4-4-4-12`, as Envoy generates
/// `x-request-id`.
pub fn uuid_v4(random: &[u8; 16]) -> String {
    let mut b = *random;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, group) in [&b[..4], &b[4..6], &b[6..8], &b[8..10], &b[10..]]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push('-');
        }
        push_hex(&mut out, group);
    }
    out
}

fn non_zero<const N: usize>(mut id: [u8; N]) -> [u8; N] {
    if id == [0; N] {
        id[N - 1] = 1;
    }
    id
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// Lowercase hex by table: ids are formatted on every request, and `format!` costs several
/// times more in wasm.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// Exactly `2 × N` lowercase hex digits.
fn hex_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N
        || !text
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
