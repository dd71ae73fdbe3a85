//! Serves the client web portal (`portal/` at the repository root) at `/client-portal`,
//! embedded in the binary so the server runs from any directory, with a strict
//! Content-Security-Policy (no inline script or style, same-origin only).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The policy every portal response carries: scripts, styles and connections from
/// this origin only (the API and the WebSocket feed), nothing inline, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
    manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

macro_rules! portal_files {
    ($($path:literal),* $(,)?) => {
        /// Every portal file: its path under `portal/` and its bytes.
        pub static FILES: &[(&str, &[u8])] = &[
            $(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../portal/", $path)))),*
        ];
    };
}

portal_files!(
    "index.html",
    "css/portal.css",
    "js/api.js",
    "js/chat.js",
    "js/dashboard.js",
    "js/dom.js",
    "js/feed.js",
    "js/format.js",
    "js/forms.js",
    "js/login.js",
    "js/main.js",
    "js/modal.js",
    "js/password.js",
    "js/quote.js",
    "js/session.js",
    "js/toast.js",
    "js/validate.js",
    "favicon.svg",
);

/// The portal's routes; stateless, merged into the app by the lead.
pub fn routes() -> Router {
    Router::new()
        .route("/client-portal", get(index))
        .route("/client-portal/", get(index))
        .route("/client-portal/{*path}", get(asset))
}

async fn index() -> Response {
    serve("index.html")
}

async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    match FILES.iter().find(|(p, _)| *p == path) {
        Some((p, bytes)) => {
            let mut res = (StatusCode::OK, *bytes).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(p)),
            );
            // Always revalidate: the portal is small and must never run stale code
            // against a newer API.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            secure(res)
        }
        None => secure((StatusCode::NOT_FOUND, "Introuvable").into_response()),
    }
}

fn secure(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// The media type of a portal file, from its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use std::path::{Path as FsPath, PathBuf};

    fn on_disk(dir: &FsPath, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                on_disk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }

    #[test]
    fn every_portal_file_is_embedded() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../portal");
        let mut disk = Vec::new();
        on_disk(&root, "", &mut disk);
        disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(disk, embedded, "portal/ and portal::FILES differ");
    }

    /// What the router's handlers answer for a path under `/client-portal`
    /// (the routing itself is exercised by the end-to-end tests).
    async fn get_path(path: &str) -> Response {
        match path.strip_prefix("/client-portal").unwrap() {
            "" | "/" => index().await,
            rest => asset(Path(rest.trim_start_matches('/').to_string())).await,
        }
    }

    #[tokio::test]
    async fn index_is_served_with_a_strict_policy_at_both_roots() {
        for path in ["/client-portal", "/client-portal/"] {
            let res = get_path(path).await;
            assert_eq!(res.status(), StatusCode::OK);
            let h = res.headers();
            assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
            let body = to_bytes(res.into_body(), 1 << 20).await.unwrap();
            let html = String::from_utf8(body.to_vec()).unwrap();
            assert!(html.contains("<html lang=\"fr\""));
            assert!(!html.contains("<script>"), "no inline script");
            assert!(!html.contains("style="), "no inline style");
        }
    }

    #[tokio::test]
    async fn assets_have_their_content_types_and_unknown_paths_404() {
        let res = get_path("/client-portal/js/main.js").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        let res = get_path("/client-portal/css/portal.css").await;
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        let res = get_path("/client-portal/../Cargo.toml").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = get_path("/client-portal/nope.js").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    }
}
