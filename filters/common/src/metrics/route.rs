//! Route names for request paths: the `route` label. Raw paths never become labels (10 000
//! user ids would be 10 000 series); an operator names the shapes that matter and everything
//! else is [`DEFAULT_ROUTE`].
//!
//! - `{"name": "users", "path": "/users/{id}"}`: a template; `{…}` matches exactly one
//!   non-empty path segment, other segments must be equal. The query string is ignored.
//! - `{"name": "api", "prefix": "/api/"}`: any path starting with the prefix.
//!
//! First match wins, in configuration order.

/// The route of a path no configured route matches.
pub const DEFAULT_ROUTE: &str = "default";

/// How a route matches a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// Segment by segment; `None` is a `{placeholder}` matching any one non-empty segment.
    Template(Vec<Option<String>>),
    /// The path starts with this.
    Prefix(String),
}

impl Matcher {
    /// A template such as `/users/{id}/orders`; must start with `/`, and a placeholder must be a
    /// whole segment.
    pub fn template(path: &str) -> Result<Self, String> {
        let rest = path
            .strip_prefix('/')
            .ok_or_else(|| format!("{path:?} must start with /"))?;
        let segments = rest
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') && segment.ends_with('}') && segment.len() > 2 {
                    Ok(None)
                } else if segment.contains(['{', '}', '?', '#']) {
                    Err(format!(
                        "{path:?}: segment {segment:?} must be a literal or a whole {{name}}"
                    ))
                } else {
                    Ok(Some(segment.to_string()))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Matcher::Template(segments))
    }

    /// A prefix; must start with `/`.
    pub fn prefix(prefix: &str) -> Result<Self, String> {
        if !prefix.starts_with('/') {
            return Err(format!("{prefix:?} must start with /"));
        }
        Ok(Matcher::Prefix(prefix.to_string()))
    }

    /// Whether `path` (query already removed) matches.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Template(segments) => {
                let Some(rest) = path.strip_prefix('/') else {
                    return false;
                };
                let mut parts = rest.split('/');
                for want in segments {
                    match (want, parts.next()) {
                        (Some(literal), Some(part)) if literal == part => {}
                        (None, Some(part)) if !part.is_empty() => {}
                        _ => return false,
                    }
                }
                parts.next().is_none()
            }
        }
    }
}

/// One named route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The label value.
    pub name: String,
    /// What it matches.
    pub matcher: Matcher,
}

/// The configured routes, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// The table of `routes`, first match wins.
    pub fn new(routes: Vec<Route>) -> Self {
        Self { routes }
    }

    /// The route name of `path` (`:path`, with any query or fragment): the first route that
    /// matches, else [`DEFAULT_ROUTE`].
    pub fn name_of(&self, path: &str) -> &str {
        self.name(self.index_of(path))
    }

    /// The route of `path` as an index (`len()` for [`DEFAULT_ROUTE`]): what the filter keeps
    /// and keys its caches on instead of the name.
    pub fn index_of(&self, path: &str) -> usize {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        self.routes
            .iter()
            .position(|r| r.matcher.matches(path))
            .unwrap_or(self.routes.len())
    }

    /// The name of route `index` as [`RouteTable::index_of`] gives it ([`DEFAULT_ROUTE`] past
    /// the configured routes).
    pub fn name(&self, index: usize) -> &str {
        self.routes
            .get(index)
            .map_or(DEFAULT_ROUTE, |r| r.name.as_str())
    }

    /// How many routes are configured (not counting the default).
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no route is configured (every path is [`DEFAULT_ROUTE`]).
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

#[cfg(test)]
mod tests;
