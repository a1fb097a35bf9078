//! The sync API as an OpenAPI 3.1 document, generated from the server's own types and handlers
//! (utoipa). `jiceng-server openapi` prints it; `schema/openapi.json` is its committed copy, checked
//! current by the tests and fuzzed with schemathesis by the test command.

use crate::http;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Jiceng sync API",
        description = "Sites push their operation logs and pull what their scope allows; see schema/sync-api.md. Every error is JSON: {code, message, server_time_ms}."
    ),
    paths(
        http::health,
        http::ready,
        http::enrol,
        http::push,
        http::pull,
        http::snapshot,
        http::own_log,
        http::records,
        http::record,
        http::latest_consolidation,
        http::close_consolidation,
        http::quarantine,
        http::decide_quarantine,
        http::import_bundle,
        http::rotate_token,
        http::recovery_code,
        http::sites,
        http::revoke_site,
        http::admin_directory,
        http::admin_action
    ),
    modifiers(&SiteToken)
)]
struct ApiDoc;

struct SiteToken;

impl Modify for SiteToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "site_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document as pretty JSON with a trailing newline (the committed file's form).
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    // The version lives in the file only as the API's, not the build's: a release bump must not
    // make the committed copy stale.
    doc.info.version = "1".to_string();
    let mut text = doc.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    /// schema/openapi.json is the document these types generate. Regenerate with
    /// `cargo run -p jiceng-server -- openapi > schema/openapi.json`.
    #[test]
    fn the_committed_openapi_document_is_current() {
        let committed = include_str!("../../schema/openapi.json");
        assert!(
            committed == super::openapi_json(),
            "schema/openapi.json is stale: run `cargo run -p jiceng-server -- openapi > schema/openapi.json`"
        );
    }
}
