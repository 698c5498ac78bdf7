//! Each endpoint's `ip:port` as the URI authority of the requests sent to it, parsed once per
//! worker and cluster instead of formatted and parsed again for every request (the formatting
//! and the parse were about 3 % of a plain proxied request's instructions).

use std::net::SocketAddr;

use http::uri::Authority;
use rustc_hash::FxHashMap;

/// Endpoints remembered at most: far more than a cluster's, and an `original_dst` cluster
/// whose filter sends to ever new destinations starts over past it rather than growing.
const MAX_ENDPOINTS: usize = 4096;

/// The authorities of the endpoints a cluster sent to, on one worker.
#[derive(Default)]
pub struct Authorities {
    by_endpoint: FxHashMap<SocketAddr, Authority>,
}

impl Authorities {
    /// `endpoint`'s authority (`127.0.0.1:8081`, `[::1]:8081`); a clone shares its bytes.
    pub fn of(&mut self, endpoint: SocketAddr) -> Authority {
        if let Some(authority) = self.by_endpoint.get(&endpoint) {
            return authority.clone();
        }
        if self.by_endpoint.len() >= MAX_ENDPOINTS {
            self.by_endpoint.clear();
        }
        let authority = authority_of(endpoint);
        self.by_endpoint.insert(endpoint, authority.clone());
        authority
    }
}

/// `endpoint` as an authority.
fn authority_of(endpoint: SocketAddr) -> Authority {
    Authority::try_from(endpoint.to_string()).expect("a socket address is a valid authority")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_families_read_back_as_host_and_port() {
        let mut authorities = Authorities::default();
        let v4 = authorities.of("127.0.0.1:8081".parse().unwrap());
        assert_eq!((v4.host(), v4.port_u16()), ("127.0.0.1", Some(8081)));
        let v6 = authorities.of("[::1]:9000".parse().unwrap());
        assert_eq!((v6.as_str(), v6.port_u16()), ("[::1]:9000", Some(9000)));
        assert_eq!(authorities.of("127.0.0.1:8081".parse().unwrap()), v4);
    }

    #[test]
    fn past_the_cap_it_starts_over() {
        let mut authorities = Authorities::default();
        for port in 0..(MAX_ENDPOINTS as u16 + 10) {
            authorities.of(SocketAddr::from(([10, 0, 0, 1], port)));
        }
        assert_eq!(authorities.by_endpoint.len(), 10);
    }
}
