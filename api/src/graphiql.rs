//! The GraphiQL IDE page and its vendored assets, embedded in the binary so GraphiQL works offline (no CDN).
//!
//! `GET /graphql` from a browser serves the page; `GET /graphiql/{file}` serves the scripts and
//! stylesheet it loads. See `api/assets/graphiql/VERSIONS.md` for versions and
//! how to refresh them.

use axum::{
    Router,
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};

const INDEX_HTML: &str = include_str!("../assets/graphiql/index.html");

const CACHE_CONTROL: &str = "public, max-age=86400";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The embedded asset called `name`, with its content type.
fn asset(name: &str) -> Option<(&'static str, &'static [u8])> {
    Some(match name {
        "graphiql.min.js" => (JS, include_bytes!("../assets/graphiql/graphiql.min.js")),
        "graphiql.min.css" => (CSS, include_bytes!("../assets/graphiql/graphiql.min.css")),
        "react.production.min.js" => (JS, include_bytes!("../assets/graphiql/react.production.min.js")),
        "react-dom.production.min.js" => (JS, include_bytes!("../assets/graphiql/react-dom.production.min.js")),
        _ => return None,
    })
}

/// Routes `GET /graphiql/{file}` (the page's assets); the page itself is what `GET /graphql`
/// answers a browser (`app::graphql_handler`).
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/graphiql/{file}", get(serve_asset))
}

/// The GraphiQL page.
pub fn page() -> Html<&'static str> {
    Html(INDEX_HTML)
}

async fn serve_asset(Path(file): Path<String>) -> Response {
    match asset(&file) {
        Some((content_type, body)) => {
            ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, CACHE_CONTROL)], body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `/graphiql/...` path that index.html references.
    fn referenced_assets() -> Vec<&'static str> {
        INDEX_HTML
            .split("\"/graphiql/")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').expect("unterminated attribute")])
            .collect()
    }

    #[test]
    fn html_loads_nothing_from_outside() {
        for outside in ["http://", "https://", "src=\"//", "href=\"//"] {
            assert!(!INDEX_HTML.contains(outside), "index.html contains {outside:?}");
        }
    }

    #[test]
    fn every_referenced_asset_is_served() {
        let refs = referenced_assets();
        assert_eq!(refs.len(), 4, "expected 3 scripts and 1 stylesheet, got {refs:?}");
        for name in refs {
            let (content_type, body) = asset(name).unwrap_or_else(|| panic!("/graphiql/{name} is not served"));
            assert!(!body.is_empty(), "{name} is empty");
            let expected = if name.ends_with(".css") { CSS } else { JS };
            assert_eq!(content_type, expected, "{name}");
        }
        assert!(asset("nope.js").is_none());
        assert!(asset("../index.html").is_none());
    }
}
