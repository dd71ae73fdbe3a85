//! The OpenAPI document served at `GET /api/openapi.json`: valid OpenAPI 3.x, and
//! a path with the right method for every route the router registers, so that a
//! route added without `#[utoipa::path]` (and its entry in `openapi::ApiDoc`) fails
//! here. The routes are read from the router's source, `src/routes/*.rs` and `src/app.rs`.

use std::collections::BTreeSet;
use std::path::Path;

use itv_server::testing::TestServer;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// `(method, path)` of every `.route("path", get(..).post(..))` in `src/routes` and
/// in `src/app.rs` (which serves the document itself).
fn registered_routes() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = BTreeSet::new();
    let files = std::fs::read_dir(src.join("routes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .chain(std::iter::once(src.join("app.rs")));
    for path in files {
        if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            // Unit tests may mention paths; they register nothing.
            let code = source.split("#[cfg(test)]").next().unwrap();
            routes.extend(routes_in(code));
        }
    }
    routes
}

fn routes_in(code: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(".route(") {
        let call = &rest[at + ".route(".len()..];
        let args = &call[..closing_paren(call)];
        let open = args.find('"').expect("a route path literal");
        let len = args[open + 1..].find('"').unwrap();
        let route = args[open + 1..open + 1 + len].to_string();
        let methods = &args[open + 1 + len + 1..];
        let before = found.len();
        for method in METHODS {
            let needle = format!("{method}(");
            let mut from = 0;
            while let Some(i) = methods[from..].find(&needle) {
                let start = from + i;
                let prev = methods[..start].chars().next_back();
                if !prev.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    found.push((method.to_string(), route.clone()));
                }
                from = start + needle.len();
            }
        }
        assert!(found.len() > before, "no method found for route {route}");
        rest = &call[closing_paren(call)..];
    }
    found
}

/// Index of the `)` closing a call whose arguments start at `s[0]`.
fn closing_paren(s: &str) -> usize {
    let mut depth = 1;
    let mut in_str = false;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        prev = c;
    }
    panic!("unbalanced route call");
}

async fn served_document(server: &TestServer) -> Value {
    let res = reqwest::get(format!("{}/api/openapi.json", server.url))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).expect("the document is JSON")
}

#[test]
fn the_route_reader_finds_the_routes() {
    let routes = registered_routes();
    for expected in [
        ("get", "/api/health"),
        ("post", "/api/auth/login"),
        ("post", "/api/client/requests/project"),
        ("get", "/api/client/requests/project"),
        ("get", "/api/requests/{id}/messages"),
        ("post", "/api/requests/{id}/messages"),
        ("get", "/api/feed"),
        ("put", "/api/requests/{id}/quote"),
        ("get", "/api/openapi.json"),
    ] {
        let key = (expected.0.to_string(), expected.1.to_string());
        assert!(routes.contains(&key), "{expected:?} not in {routes:?}");
    }
    assert!(routes.len() >= 23, "{routes:?}");
}

#[tokio::test]
async fn every_registered_route_has_a_documented_operation() {
    let server = TestServer::start().await;
    let doc = served_document(&server).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string());

    let routes = registered_routes();
    let missing: Vec<_> = routes
        .iter()
        .filter(|(method, path)| doc["paths"][path.as_str()][method.as_str()].is_null())
        .collect();
    assert!(
        missing.is_empty(),
        "routes without an OpenAPI operation: {missing:?}"
    );

    // And nothing documented that the router does not serve.
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method.to_string(), path.clone()));
            }
        }
    }
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(extra.is_empty(), "documented but not registered: {extra:?}");
    server.stop().await;
}

#[tokio::test]
async fn operations_declare_their_security_and_error_bodies() {
    let server = TestServer::start().await;
    let doc = served_document(&server).await;
    let public = ["/api/health", "/api/auth/login", "/api/openapi.json"];
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            assert!(op["tags"][0].is_string(), "{what}: no tag");
            assert!(
                op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|s| s.starts_with('2') || s == "101"),
                "{what}: no success answer"
            );
            if public.contains(&path.as_str()) {
                continue;
            }
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: no security"));
            assert!(
                security.iter().any(|s| s.get("bearer").is_some()),
                "{what}: not bearer"
            );
            let unauthorized =
                &op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(
                unauthorized, "#/components/schemas/ErrorBody",
                "{what}: 401 is not an ErrorBody"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn every_schema_reference_resolves() {
    let server = TestServer::start().await;
    let doc = served_document(&server).await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Request",
        "Details",
        "Status",
        "Priority",
        "Urgency",
        "Role",
        "RequestKind",
        "QuoteItem",
        "HistoryEntry",
        "ChatMessage",
        "FeedEvent",
        "Notification",
        "EventType",
        "ErrorBody",
    ] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    // The flat request: common fields plus its kind's, tagged by `kind`.
    let request = serde_json::to_string(&schemas["Request"]).unwrap();
    for field in ["_id", "ticketNumber", "clientName", "updatedAt", "version"] {
        assert!(request.contains(field), "Request lacks {field}");
    }
    let details = serde_json::to_string(&schemas["Details"]).unwrap();
    for field in [
        "serviceType",
        "preferredStartDate",
        "ticketType",
        "projectId",
    ] {
        assert!(details.contains(field), "Details lacks {field}");
    }
    server.stop().await;
}
