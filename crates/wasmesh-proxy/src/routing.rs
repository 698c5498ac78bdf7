//! Route matching: first route whose path (prefix or exact, query ignored)
//! and header conditions all hold.

use crate::spec::RouteConfig;
use wasmesh_host::headers::HeaderMap;

/// Index of the first matching route.
pub fn find(routes: &[RouteConfig], headers: &HeaderMap) -> Option<usize> {
    let path = headers.get_str(":path").unwrap_or("/");
    let path = path.split('?').next().unwrap_or("/");
    routes.iter().position(|route| {
        let m = &route.matcher;
        if let Some(exact) = &m.exact {
            if path != exact {
                return false;
            }
        }
        if let Some(prefix) = &m.prefix {
            if !path.starts_with(prefix.as_str()) {
                return false;
            }
        }
        m.headers
            .iter()
            .all(|h| match (headers.get_str(&h.name), &h.exact) {
                (Some(value), Some(want)) => value == want,
                (Some(_), None) => true,
                (None, _) => false,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{HeaderMatch, RouteMatch};

    fn route(prefix: Option<&str>, exact: Option<&str>, headers: Vec<HeaderMatch>) -> RouteConfig {
        RouteConfig {
            matcher: RouteMatch {
                prefix: prefix.map(str::to_string),
                exact: exact.map(str::to_string),
                headers,
            },
            cluster: "c".into(),
            timeout_ms: 1,
            upgrade_configs: Vec::new(),
        }
    }

    #[test]
    fn first_match_wins_and_query_is_ignored() {
        let routes = vec![
            route(
                None,
                Some("/x"),
                vec![HeaderMatch {
                    name: "X-A".into(),
                    exact: Some("b".into()),
                }],
            ),
            route(Some("/api"), None, vec![]),
            route(Some("/"), None, vec![]),
        ];
        let mut h = HeaderMap::new();
        h.add(b":path", b"/x?q=1");
        assert_eq!(find(&routes, &h), Some(2));
        h.add(b"x-a", b"b");
        assert_eq!(find(&routes, &h), Some(0));
        let mut h = HeaderMap::new();
        h.add(b":path", b"/api/v1");
        assert_eq!(find(&routes, &h), Some(1));
        assert_eq!(find(&routes[..1], &h), None);
    }
}
