//! Turning a request into the bytes a hash policy hashes: a header value, a cookie value or
//! the client's IP. The filter fetches the raw inputs; parsing them is here, tested natively.

/// The value of cookie `name` in a `cookie` request header (`a=1; session=xyz`), if present.
/// Quotes around a value are kept: they are part of the value as the server set it.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim())
    })
}

/// The IP part of a `source.address` property (`10.1.2.3:5555`, `[::1]:5555`, or a bare IP):
/// the client's port changes per connection, so it must not be part of the key.
pub fn source_ip(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        // One colon: `ip:port`. More: a bare IPv6 address without a port.
        Some((ip, _port)) if !ip.contains(':') => ip,
        _ => address,
    }
}

#[cfg(test)]
mod tests;
