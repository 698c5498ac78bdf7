//! The `hostcalls` input format. Any byte string is a valid input (missing bytes read as zero,
//! a trailing partial call is dropped), so the fuzzer never wastes a run on a parse error:
//!
//! ```text
//! callback  u8        which callback runs the calls (modulo the number of callbacks)
//! state     u8        bit i: stream part i exists (request headers, body, trailers, response
//!                     headers, body, trailers); bit 6: the context may call proxy_done;
//!                     bit 7: a second stream context exists
//! alloc     u32 LE    the guest allocator's answer (0: a real allocation)
//! len       u16 LE    how many bytes follow for guest memory at address 0
//! memory    [u8; len]
//! calls     (op u8, args [u32 LE; 10])*, at most MAX_CALLS
//! ```

/// Most calls one input makes (the guest's limit too).
pub const MAX_CALLS: usize = 64;
/// Bytes of one encoded call.
const CALL_BYTES: usize = 1 + 4 * 10;

/// One hostcall: an op number (see [`super::ops::OPS`]) and its ten arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Which hostcall (modulo the number of ops).
    pub op: u8,
    /// Its arguments; unused ones are ignored.
    pub args: [u32; 10],
}

/// A decoded input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    /// Which callback runs the calls.
    pub callback: u8,
    /// Which stream parts and contexts exist (see the module docs).
    pub state: u8,
    /// The allocator's forced answer, 0 for none.
    pub alloc: u32,
    /// Bytes written at guest address 0.
    pub memory: Vec<u8>,
    /// The calls, in order.
    pub calls: Vec<Call>,
}

impl Input {
    /// Reads an input; never fails.
    pub fn decode(data: &[u8]) -> Input {
        let mut reader = Reader(data);
        let callback = reader.u8();
        let state = reader.u8();
        let alloc = reader.u32();
        let len = usize::from(u16::from_le_bytes([reader.u8(), reader.u8()]));
        let memory = reader.take(len).to_vec();
        let mut calls = Vec::new();
        while reader.0.len() >= CALL_BYTES && calls.len() < MAX_CALLS {
            let op = reader.u8();
            let args = std::array::from_fn(|_| reader.u32());
            calls.push(Call { op, args });
        }
        Input {
            callback,
            state,
            alloc,
            memory,
            calls,
        }
    }

    /// The bytes [`Input::decode`] reads back as `self` (for seeds).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.callback, self.state];
        out.extend_from_slice(&self.alloc.to_le_bytes());
        let memory = &self.memory[..self.memory.len().min(usize::from(u16::MAX))];
        out.extend_from_slice(&(memory.len() as u16).to_le_bytes());
        out.extend_from_slice(memory);
        for call in self.calls.iter().take(MAX_CALLS) {
            out.push(call.op);
            for arg in call.args {
                out.extend_from_slice(&arg.to_le_bytes());
            }
        }
        out
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    fn u32(&mut self) -> u32 {
        let mut word = [0u8; 4];
        let bytes = self.take(4);
        word[..bytes.len()].copy_from_slice(bytes);
        u32::from_le_bytes(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reads_back_what_encode_wrote() {
        let input = Input {
            callback: 3,
            state: 0x81,
            alloc: 7,
            memory: b"abc".to_vec(),
            calls: vec![Call {
                op: 5,
                args: [1, 2, 3, 4, 5, 6, 7, 8, 9, u32::MAX],
            }],
        };
        assert_eq!(Input::decode(&input.encode()), input);
    }

    #[test]
    fn short_inputs_decode_to_defaults() {
        assert_eq!(Input::decode(&[]), Input::default());
        let cut = Input::decode(&[1, 2, 3]);
        assert_eq!((cut.callback, cut.state, cut.alloc), (1, 2, 3));
    }
}
