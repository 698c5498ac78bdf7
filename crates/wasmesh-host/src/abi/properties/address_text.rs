//! A socket address as text, as its `Display` writes it (`10.0.0.1:8080`, `[::1]:8080`): the
//! value of `source.address`, `destination.address` and `upstream.address`, which the mesh
//! filters read on every request. IPv4 is written with itoa, not through the formatting
//! machinery, which cost more than the rest of the property's lookup.

use std::net::SocketAddr;

/// `addr` as `Display` writes it.
pub fn address_text(addr: SocketAddr) -> String {
    let SocketAddr::V4(v4) = addr else {
        return addr.to_string();
    };
    let mut digits = itoa::Buffer::new();
    let mut out = String::with_capacity("255.255.255.255:65535".len());
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(digits.format(octet));
    }
    out.push(':');
    out.push_str(digits.format(v4.port()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_display_writes_it() {
        for addr in [
            "0.0.0.0:0",
            "127.0.0.1:8081",
            "10.20.255.9:65535",
            "192.168.100.1:80",
            "[::1]:8080",
            "[2001:db8::5]:443",
        ] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(address_text(addr), addr.to_string());
        }
    }
}
