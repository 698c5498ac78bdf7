//! Each endpoint's `ip:port` text, formatted once per worker. The pick header and the echo
//! header carry it on every request, and formatting a socket address through `core::fmt` was
//! about an eighth of this filter's CPU per stream (`cargo run --release -p wasmesh-harness
//! --example stream_cost`).

use std::net::SocketAddr;
use std::rc::Rc;

use rustc_hash::FxHashMap;

/// More distinct endpoints than any set holds: past this many (discovery replacing endpoints
/// for a long time), the texts start over rather than grow.
const MAX_TEXTS: usize = 4096;

/// Endpoint texts by address.
#[derive(Debug, Default)]
pub struct AddressTexts {
    texts: FxHashMap<SocketAddr, Rc<str>>,
}

impl AddressTexts {
    /// `address` as `ip:port` (`[ip]:port` for IPv6), as `SocketAddr`'s `Display` writes it.
    pub fn of(&mut self, address: SocketAddr) -> Rc<str> {
        if let Some(text) = self.texts.get(&address) {
            return Rc::clone(text);
        }
        if self.texts.len() >= MAX_TEXTS {
            self.texts.clear();
        }
        let text: Rc<str> = address.to_string().into();
        self.texts.insert(address, Rc::clone(&text));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_what_display_writes_and_stay_bounded() {
        let mut texts = AddressTexts::default();
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert_eq!(&*texts.of(v6), "[::1]:8080");
        assert_eq!(
            &*texts.of(v6),
            "[::1]:8080",
            "the second time, from the cache"
        );
        for port in 0..(MAX_TEXTS as u16 + 10) {
            let address = SocketAddr::from(([10, 0, 0, 1], port));
            assert_eq!(*texts.of(address), address.to_string());
        }
        assert!(texts.texts.len() <= MAX_TEXTS);
    }
}
