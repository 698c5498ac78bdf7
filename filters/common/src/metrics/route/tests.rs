use super::*;

fn table(routes: &[(&str, Matcher)]) -> RouteTable {
    RouteTable::new(
        routes
            .iter()
            .map(|(name, matcher)| Route {
                name: name.to_string(),
                matcher: matcher.clone(),
            })
            .collect(),
    )
}

#[test]
fn templates_match_one_segment_per_placeholder() {
    let m = Matcher::template("/users/{id}").unwrap();
    assert!(m.matches("/users/42"));
    assert!(!m.matches("/users/"));
    assert!(!m.matches("/users"));
    assert!(!m.matches("/users/42/orders"));
    assert!(!m.matches("/people/42"));
    let m = Matcher::template("/users/{id}/orders/{order}").unwrap();
    assert!(m.matches("/users/1/orders/2"));
    assert!(!m.matches("/users/1/items/2"));
    assert!(Matcher::template("/").unwrap().matches("/"));
}

#[test]
fn bad_templates_are_refused() {
    assert!(Matcher::template("users/{id}").is_err());
    assert!(Matcher::template("/users/x{id}").is_err());
    assert!(Matcher::template("/users/{}").is_err());
    assert!(Matcher::template("/a?b").is_err());
    assert!(Matcher::prefix("api").is_err());
}

#[test]
fn first_match_wins_and_the_rest_is_default() {
    let t = table(&[
        ("me", Matcher::template("/users/me").unwrap()),
        ("users", Matcher::template("/users/{id}").unwrap()),
        ("api", Matcher::prefix("/api/").unwrap()),
    ]);
    assert_eq!(t.name_of("/users/me"), "me");
    assert_eq!(t.name_of("/users/7?full=1"), "users");
    assert_eq!(t.name_of("/users/7#top"), "users");
    assert_eq!(t.name_of("/api/v1/x"), "api");
    assert_eq!(t.name_of("/api"), DEFAULT_ROUTE);
    assert_eq!(t.name_of("/something/else"), DEFAULT_ROUTE);
    assert_eq!(t.name_of(""), DEFAULT_ROUTE);
    assert_eq!(RouteTable::default().name_of("/users/7"), DEFAULT_ROUTE);
}

#[test]
fn indexes_name_the_same_routes() {
    let t = table(&[
        ("users", Matcher::template("/users/{id}").unwrap()),
        ("api", Matcher::prefix("/api/").unwrap()),
    ]);
    assert_eq!(t.index_of("/users/7"), 0);
    assert_eq!(t.index_of("/api/x"), 1);
    assert_eq!(
        t.index_of("/other"),
        2,
        "the default route is past the table"
    );
    for path in ["/users/7", "/api/x", "/other", ""] {
        assert_eq!(t.name(t.index_of(path)), t.name_of(path));
    }
    assert_eq!(RouteTable::default().index_of("/users/7"), 0);
    assert_eq!(RouteTable::default().name(0), DEFAULT_ROUTE);
}
