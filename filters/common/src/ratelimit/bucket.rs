//! Token-bucket arithmetic, and the bytes a bucket is stored as in shared data.
//!
//! A bucket holds up to `burst` tokens and regains `tokens_per_second`; each request takes one.
//! The state is only tokens-left plus the time they were counted, so any worker can pick it
//! up from shared data, refill it for the time elapsed, and write it back with CAS.

/// Nanoseconds per second, for converting the host clock (unix nanoseconds).
const NANOS_PER_SEC: f64 = 1e9;

/// The limits of one bucket: refill rate and capacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    tokens_per_second: f64,
    burst: u32,
}

/// One bucket's state, as kept in shared data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketState {
    /// Tokens left (fractional: refill is continuous).
    pub tokens: f64,
    /// When `tokens` was counted, unix nanoseconds (the host's `get_current_time`).
    pub updated_ns: u64,
}

/// The outcome of taking a token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// The request may pass; the caller stores this new state (CAS against what it read).
    Allowed(BucketState),
    /// The request is limited; nothing needs storing (refill is computed from the stored time).
    Limited {
        /// Whole seconds until a token is available: the `retry-after` value (at least 1).
        retry_after_secs: u64,
    },
}

impl TokenBucket {
    /// A bucket refilling `tokens_per_second` (finite, > 0) up to `burst` (≥ 1) tokens;
    /// `None` for values the arithmetic cannot work with.
    pub fn new(tokens_per_second: f64, burst: u32) -> Option<Self> {
        if tokens_per_second.is_finite() && tokens_per_second > 0.0 && burst >= 1 {
            Some(Self {
                tokens_per_second,
                burst,
            })
        } else {
            None
        }
    }

    /// The refill rate.
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens_per_second
    }

    /// The capacity: how many requests may pass at once after an idle period.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Takes one token for a request at `now_ns`, from `state` (`None`: a bucket never used,
    /// which starts full).
    ///
    /// A clock that went backwards refills nothing, and the stored time never moves back, so a
    /// clock jump cannot hand out extra tokens later.
    pub fn take(&self, state: Option<BucketState>, now_ns: u64) -> Decision {
        let capacity = f64::from(self.burst);
        let (tokens, updated_ns) = match state {
            None => (capacity, now_ns),
            Some(s) => {
                let elapsed_ns = now_ns.saturating_sub(s.updated_ns);
                let gained = elapsed_ns as f64 / NANOS_PER_SEC * self.tokens_per_second;
                let tokens = (s.tokens.clamp(0.0, capacity) + gained).min(capacity);
                (tokens, now_ns.max(s.updated_ns))
            }
        };
        if tokens >= 1.0 {
            Decision::Allowed(BucketState {
                tokens: tokens - 1.0,
                updated_ns,
            })
        } else {
            let wait_secs = (1.0 - tokens) / self.tokens_per_second;
            Decision::Limited {
                retry_after_secs: (wait_secs.ceil() as u64).max(1),
            }
        }
    }
}

impl TokenBucket {
    /// Whether `state` has regained its whole burst by `now_ns`: such a bucket is the same as
    /// none, so its shared-data slot can hold another key's bucket.
    pub fn is_refilled(&self, state: &BucketState, now_ns: u64) -> bool {
        let elapsed_ns = now_ns.saturating_sub(state.updated_ns);
        let gained = elapsed_ns as f64 / NANOS_PER_SEC * self.tokens_per_second;
        state.tokens.max(0.0) + gained >= f64::from(self.burst)
    }
}

impl BucketState {
    /// Format version, first byte of the encoding.
    const VERSION: u8 = 1;
    /// Length of [`BucketState::encode`]'s output.
    pub const ENCODED_LEN: usize = 17;

    /// The shared-data value: version byte, `tokens` (f64 bits, little-endian), `updated_ns`
    /// (u64, little-endian). Fixed-size and endian-explicit, so every worker reads it alike.
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[0] = Self::VERSION;
        out[1..9].copy_from_slice(&self.tokens.to_bits().to_le_bytes());
        out[9..17].copy_from_slice(&self.updated_ns.to_le_bytes());
        out
    }

    /// Reads [`BucketState::encode`]'s output; `None` for anything else (other version, wrong
    /// length, non-finite tokens), which callers treat as a fresh bucket.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::ENCODED_LEN || bytes[0] != Self::VERSION {
            return None;
        }
        let tokens = f64::from_bits(u64::from_le_bytes(bytes[1..9].try_into().ok()?));
        let updated_ns = u64::from_le_bytes(bytes[9..17].try_into().ok()?);
        tokens.is_finite().then_some(Self { tokens, updated_ns })
    }
}

#[cfg(test)]
mod tests;
