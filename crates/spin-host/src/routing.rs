//! HTTP route matching with Spin 3.6 semantics: exact and `:param` routes beat
//! wildcards, the longest wildcard prefix wins, a trailing `/` is ignored for
//! exact routes, matching is case-sensitive and the path is not normalised.

/// A parsed `route = "..."` pattern.
#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    /// Exact path, stored without trailing slash as segments (`/` → no segments).
    Exact(Vec<Segment>),
    /// `/prefix/...`: the prefix without trailing slash (`/...` → "").
    Wildcard(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// One public route of the application.
#[derive(Debug, Clone)]
pub struct Route {
    /// The route as written in the manifest (`spin-raw-component-route`).
    pub raw: String,
    /// Component id handling it.
    pub component: String,
    pattern: Pattern,
}

/// The outcome of matching a request path, carrying what the `spin-*` headers need.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteMatch {
    /// Component id.
    pub component: String,
    /// `spin-matched-route`.
    pub matched_route: String,
    /// `spin-component-route`.
    pub component_route: String,
    /// `spin-raw-component-route`.
    pub raw_route: String,
    /// `spin-path-info`.
    pub path_info: String,
    /// `(name, value)` for each `:name` segment (`spin-path-match-<name>`).
    pub params: Vec<(String, String)>,
}

impl Route {
    /// Parses a manifest route for a component.
    pub fn new(raw: &str, component: &str) -> Route {
        let pattern = match raw.strip_suffix("/...") {
            Some(prefix) => Pattern::Wildcard(prefix.trim_end_matches('/').to_string()),
            None if raw == "..." => Pattern::Wildcard(String::new()),
            None => Pattern::Exact(
                split_segments(raw)
                    .into_iter()
                    .map(|s| match s.strip_prefix(':') {
                        Some(name) => Segment::Param(name.to_string()),
                        None => Segment::Literal(s.to_string()),
                    })
                    .collect(),
            ),
        };
        Route {
            raw: raw.to_string(),
            component: component.to_string(),
            pattern,
        }
    }

    /// The route as shown in `Available Routes` (`/api/login/` → `/api/login`,
    /// wildcards keep `/...`).
    pub fn display(&self) -> String {
        match &self.pattern {
            Pattern::Wildcard(prefix) => format!("{prefix}/..."),
            Pattern::Exact(_) => self.normalised_exact(),
        }
    }

    fn normalised_exact(&self) -> String {
        let t = self.raw.trim_end_matches('/');
        if t.is_empty() {
            "/".to_string()
        } else {
            t.to_string()
        }
    }

    fn try_match(&self, path: &str) -> Option<RouteMatch> {
        match &self.pattern {
            Pattern::Exact(segments) => {
                let actual = split_segments(path);
                if actual.len() != segments.len() {
                    return None;
                }
                let mut params = Vec::new();
                for (want, got) in segments.iter().zip(&actual) {
                    match want {
                        Segment::Literal(l) if l == got => {}
                        Segment::Param(name) if !got.is_empty() => {
                            params.push((name.clone(), got.to_string()))
                        }
                        _ => return None,
                    }
                }
                Some(RouteMatch {
                    component: self.component.clone(),
                    matched_route: self.normalised_exact(),
                    component_route: self.raw.clone(),
                    raw_route: self.raw.clone(),
                    path_info: String::new(),
                    params,
                })
            }
            Pattern::Wildcard(prefix) => {
                let rest = path.strip_prefix(prefix.as_str())?;
                if !(rest.is_empty() || rest.starts_with('/')) {
                    return None;
                }
                Some(RouteMatch {
                    component: self.component.clone(),
                    matched_route: self.raw.clone(),
                    component_route: prefix.clone(),
                    raw_route: self.raw.clone(),
                    path_info: rest.to_string(),
                    params: Vec::new(),
                })
            }
        }
    }
}

/// Splits a path into segments, ignoring one trailing slash (`/` → none).
fn split_segments(path: &str) -> Vec<&str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let p = p.strip_suffix('/').unwrap_or(p);
    if p.is_empty() {
        Vec::new()
    } else {
        p.split('/').collect()
    }
}

/// The application's public routes.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Builds the router; for duplicate routes the later declaration wins, and
    /// the shadowed ones are returned as `(component, route, winner)` so the
    /// caller can log them as Spin does.
    pub fn new(routes: Vec<Route>) -> (Router, Vec<(String, String, String)>) {
        let mut kept: Vec<Route> = Vec::new();
        let mut duplicates = Vec::new();
        for r in routes {
            if let Some(pos) = kept.iter().position(|k| k.pattern == r.pattern) {
                let old = kept.remove(pos);
                duplicates.push((old.component, old.raw, r.component.clone()));
            }
            kept.push(r);
        }
        (Router { routes: kept }, duplicates)
    }

    /// All routes, in declaration order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Finds the route for a raw request path.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let exact = self
            .routes
            .iter()
            .filter(|r| matches!(r.pattern, Pattern::Exact(_)))
            .filter_map(|r| r.try_match(path).map(|m| (r, m)))
            // Fully literal routes beat `:param` routes.
            .max_by_key(|(r, m)| (m.params.is_empty(), r.raw.len()))
            .map(|(_, m)| m);
        exact.or_else(|| {
            self.routes
                .iter()
                .filter_map(|r| match &r.pattern {
                    Pattern::Wildcard(prefix) => r.try_match(path).map(|m| (prefix.len(), m)),
                    Pattern::Exact(_) => None,
                })
                .max_by_key(|(len, _)| *len)
                .map(|(_, m)| m)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let routes = [
            ("/api/login/", "login"),
            ("/api/ping", "ping"),
            ("/api/...", "api"),
            ("/api/v2/...", "v2"),
            ("/items/:id", "items"),
        ];
        Router::new(routes.iter().map(|(r, c)| Route::new(r, c)).collect()).0
    }

    fn hit(path: &str) -> Option<(String, String, String)> {
        router()
            .route(path)
            .map(|m| (m.component, m.matched_route, m.path_info))
    }

    #[test]
    fn spin_facts_routing_table() {
        let h = |c: &str, r: &str, p: &str| Some((c.into(), r.into(), p.into()));
        assert_eq!(hit("/api/login"), h("login", "/api/login", ""));
        assert_eq!(hit("/api/login/"), h("login", "/api/login", ""));
        assert_eq!(hit("/api/ping/"), h("ping", "/api/ping", ""));
        assert_eq!(hit("/api/login/x"), h("api", "/api/...", "/login/x"));
        assert_eq!(hit("/api/pingx"), h("api", "/api/...", "/pingx"));
        assert_eq!(hit("/api"), h("api", "/api/...", ""));
        assert_eq!(hit("/api/"), h("api", "/api/...", "/"));
        assert_eq!(hit("/api/v2"), h("v2", "/api/v2/...", ""));
        assert_eq!(hit("/api/v2/z"), h("v2", "/api/v2/...", "/z"));
        assert_eq!(hit("/items/42/"), h("items", "/items/:id", ""));
        assert_eq!(hit("/api//login/"), h("api", "/api/...", "//login/"));
        assert_eq!(hit("/api/%6Cogin/"), h("api", "/api/...", "/%6Cogin/"));
        for miss in ["/items/42/more", "/items", "/apix", "/API/login/"] {
            assert_eq!(hit(miss), None, "{miss}");
        }
        let m = router().route("/items/42").unwrap();
        assert_eq!(m.params, vec![("id".to_string(), "42".to_string())]);
    }

    #[test]
    fn catch_all_and_duplicates() {
        let (r, dups) = Router::new(vec![Route::new("/x", "a"), Route::new("/x", "b")]);
        assert_eq!(dups, vec![("a".into(), "/x".into(), "b".into())]);
        assert_eq!(r.route("/x").unwrap().component, "b");
        let (r, _) = Router::new(vec![Route::new("/...", "all")]);
        let m = r.route("/a/b").unwrap();
        assert_eq!(
            (m.component_route.as_str(), m.path_info.as_str()),
            ("", "/a/b")
        );
    }
}
