//! Header names as hyper's maps take them, remembered per thread.
//!
//! `HeaderName::from_bytes` validates every byte of a name and, for one that is not among the
//! standard names (`x-forwarded-for`, `x-request-id`, whatever a filter or an upstream adds),
//! allocates a copy; a proxied request converts about ten names each way. The names a worker
//! sees repeat from one request to the next, so each is made once and cloned after (a clone
//! shares its bytes).

use std::cell::RefCell;

use http::header::{HeaderName, InvalidHeaderName};
use rustc_hash::FxHashMap;

/// Names remembered at most per thread; past it the cache starts over, so a client or filter
/// sending ever new names costs what it did without the cache and holds no more memory.
const MAX_NAMES: usize = 512;
/// Longest name remembered: longer ones are rare and would make the cache's memory unbounded
/// in practice (512 × a 64 KiB name).
const MAX_NAME_LEN: usize = 64;

thread_local! {
    static NAMES: RefCell<FxHashMap<Box<[u8]>, HeaderName>> = RefCell::default();
}

/// `name` as a hyper header name (lowercased, as `HeaderName::from_bytes` makes it).
pub fn header_name(name: &[u8]) -> Result<HeaderName, InvalidHeaderName> {
    if name.len() > MAX_NAME_LEN {
        return HeaderName::from_bytes(name);
    }
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if let Some(known) = names.get(name) {
            return Ok(known.clone());
        }
        let made = HeaderName::from_bytes(name)?;
        if names.len() >= MAX_NAMES {
            names.clear();
        }
        names.insert(name.into(), made.clone());
        Ok(made)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_back_lowercase_and_equal_to_hypers() {
        for raw in [&b"X-Request-Id"[..], b"x-request-id", b"content-type"] {
            assert_eq!(
                header_name(raw).unwrap(),
                HeaderName::from_bytes(raw).unwrap()
            );
        }
        assert_eq!(header_name(b"X-Backend").unwrap().as_str(), "x-backend");
    }

    #[test]
    fn invalid_names_are_refused_every_time() {
        assert!(header_name(b"bad name").is_err());
        assert!(header_name(b"bad name").is_err());
        assert!(header_name(b"").is_err());
    }

    #[test]
    fn the_cache_stays_within_its_cap() {
        for i in 0..(MAX_NAMES + 10) {
            header_name(format!("x-name-{i}").as_bytes()).unwrap();
        }
        let long = vec![b'a'; MAX_NAME_LEN + 1];
        assert_eq!(header_name(&long).unwrap().as_str().len(), MAX_NAME_LEN + 1);
        NAMES.with(|names| assert!(names.borrow().len() <= MAX_NAMES));
    }
}
