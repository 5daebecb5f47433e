//! GraphQL over HTTP, as the graphql-over-http specification and Apollo's clients expect it:
//! a request read from `GET` parameters or a `POST` JSON body, the media type of the answer
//! chosen from `Accept`, status codes by that media type, and every transport error a JSON body
//! with an `extensions.code`.

use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType};
use async_graphql::{Name, Positioned};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";
/// The `Retry-After` of an UNAVAILABLE answer, in seconds.
const RETRY_AFTER_SECS: &str = "2";

/// The media type of the answer, from the request's `Accept`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MediaType {
    /// `application/graphql-response+json`: request errors have 4xx status codes.
    GraphqlResponse,
    /// `application/json` (also for no `Accept`, or `*/*`): well-formed requests answer 200.
    Json,
}

impl MediaType {
    /// The spec's choice: `application/graphql-response+json` when the client lists it and does
    /// not prefer `application/json` (by order; q-values are rarely used by GraphQL clients).
    pub fn of(headers: &HeaderMap) -> Self {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let at = |t: &str| accept.find(t);
        match (at(GRAPHQL_RESPONSE_JSON), at(JSON)) {
            (Some(g), Some(j)) if g < j => Self::GraphqlResponse,
            (Some(_), None) => Self::GraphqlResponse,
            _ => Self::Json,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Whether a browser asks for a page (`GET /graphql` typed in the address bar): it gets GraphiQL.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.contains("text/html") && !accept.contains(JSON) && !accept.contains(GRAPHQL_RESPONSE_JSON)
}

/// A proxy the service believes (`CBSS_TRUSTED_PROXIES`): an address or a CIDR range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proxy(ipnet::IpNet);

impl std::str::FromStr for Proxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(Proxy)
            .map_err(|_| format!("{s:?} is neither an IP address nor a CIDR range"))
    }
}

/// The client's address: the peer's, or behind trusted proxies the last address of
/// `X-Forwarded-For` (each proxy appends the one it saw) that is not itself a trusted proxy. A
/// client can write anything at the start of the header, never past the proxies' entries.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Proxy]) -> Option<IpAddr> {
    let trusts = |ip: &IpAddr| trusted.iter().any(|p| p.0.contains(ip));
    let mut address = peer?;
    if !trusts(&address) {
        return Some(address);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusts(&ip) => address = ip,
            Ok(ip) => return Some(ip),
            // Unreadable: the last address the proxies vouch for.
            Err(_) => break,
        }
    }
    Some(address)
}

/// A transport error: its status, stable code and message, answered as a JSON body.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "errors": [{ "message": self.message, "extensions": { "code": self.code } }] });
        let mut res = (self.status, [(header::CONTENT_TYPE, JSON)], body.to_string()).into_response();
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        res
    }
}

/// `GET /graphql` parameters, each a string as the spec says (`variables` and `extensions` are
/// JSON texts).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// Reads the GraphQL request of a `GET` (parameters) or `POST` (a JSON body of at most
/// `max_body` bytes; batches are refused: limits apply per operation).
pub async fn read(request: Request, max_body: usize) -> Result<async_graphql::Request, Refusal> {
    if request.method() == Method::GET {
        let params = match request.uri().query() {
            Some(q) => serde_urlencoded_params(q)?,
            None => GetParams::default(),
        };
        let mut body = serde_json::Map::new();
        body.insert("query".into(), params.query.unwrap_or_default().into());
        if let Some(name) = params.operation_name {
            body.insert("operationName".into(), name.into());
        }
        for (key, text) in [("variables", params.variables), ("extensions", params.extensions)] {
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                let value: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| Refusal::bad_request(format!("`{key}` is not JSON: {e}")))?;
                body.insert(key.into(), value);
            }
        }
        return from_json(serde_json::Value::Object(body));
    }
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with(JSON));
    if !json {
        // Only JSON bodies: no form or multipart posts that a browser could send cross-site.
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send GraphQL requests as application/json",
        ));
    }
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than {max_body} bytes"),
        )
    };
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return Err(too_large());
    }
    // A chunked body has no length to check first: it is cut off at the limit as it arrives.
    let bytes = match axum::body::to_bytes(request.into_body(), max_body).await {
        Ok(bytes) => bytes,
        Err(e) if is_length_limit(&e) => return Err(too_large()),
        Err(_) => return Err(Refusal::bad_request("the request body could not be read")),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| Refusal::bad_request(format!("the body is not valid JSON: {e}")))?;
    if value.is_array() {
        return Err(Refusal::bad_request("batched requests are not accepted: send one operation per request"));
    }
    from_json(value)
}

fn serde_urlencoded_params(query: &str) -> Result<GetParams, Refusal> {
    let uri: axum::http::Uri =
        format!("/?{query}").parse().map_err(|_| Refusal::bad_request("unreadable parameters"))?;
    axum::extract::Query::<GetParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| Refusal::bad_request(format!("unreadable parameters: {e}")))
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

fn from_json(value: serde_json::Value) -> Result<async_graphql::Request, Refusal> {
    if !value.is_object() {
        return Err(Refusal::bad_request("the body must be a JSON object with a `query`"));
    }
    serde_json::from_value(value).map_err(|e| Refusal::bad_request(format!("not a GraphQL request: {e}")))
}

/// The operation a request will run — the one `operationName` names among the document's, or
/// its only one — with its name (None when anonymous), if the document parsed and names one
/// unambiguously. A name the document does not define is no operation.
fn operation(request: &mut async_graphql::Request) -> Option<(Option<String>, OperationType)> {
    let asked = request.operation_name.clone();
    let (name, op) = chosen(request.parsed_query().ok()?, asked.as_deref())?;
    Some((name.map(|n| n.to_string()), op.node.ty))
}

/// The operation of `doc` a request runs: the one it names, or the only one.
fn chosen<'d>(
    doc: &'d ExecutableDocument,
    asked: Option<&str>,
) -> Option<(Option<&'d Name>, &'d Positioned<OperationDefinition>)> {
    let mut ops = doc.operations.iter();
    match asked {
        Some(asked) => ops.find(|(n, _)| n.is_some_and(|n| n.as_str() == asked)),
        None => {
            let only = ops.next()?;
            ops.next().is_none().then_some(only)
        }
    }
}

/// Gives every variable the request leaves out its default, as the specification's
/// CoerceVariableValues does. async-graphql reads defaults for arguments, but applies `@skip` and
/// `@include` before executing from the variables sent only: `@include(if: $all)` with
/// `$all: Boolean = true` left out dropped the field.
pub fn with_variable_defaults(request: &mut async_graphql::Request) {
    let asked = request.operation_name.clone();
    let Some((_, op)) = request.parsed_query().ok().and_then(|doc| chosen(doc, asked.as_deref())) else { return };
    let defaults: Vec<_> = (op.node.variable_definitions.iter())
        .filter_map(|v| Some((v.node.name.node.clone(), v.node.default_value.as_ref()?.node.clone())))
        .collect();
    for (name, value) in defaults {
        request.variables.entry(name).or_insert(value);
    }
}

/// The name of the operation a request will run, as its document spells it: a metric label and
/// a log field, so never a string a client sent that the document does not define.
pub fn operation_name(request: &mut async_graphql::Request) -> Option<String> {
    operation(request)?.0
}

/// The type of the operation a request will run.
pub fn operation_type(request: &mut async_graphql::Request) -> Option<OperationType> {
    Some(operation(request)?.1)
}

/// A request error (one before execution: no `data` at all) or an answer, in the chosen media
/// type. Request errors carry no `data` entry, as the GraphQL specification says; with
/// `application/graphql-response+json` they have the status of their code, with
/// `application/json` they answer 200 like every well-formed request.
pub fn respond(mut response: async_graphql::Response, media: MediaType) -> Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    for e in &mut response.errors {
        add_missing_code(e, request_error);
    }
    let mut status = StatusCode::OK;
    let body = if request_error {
        if media == MediaType::GraphqlResponse {
            status = response.errors.first().map_or(StatusCode::BAD_REQUEST, |e| status_of(code_of(e)));
        }
        serde_json::json!({ "errors": response.errors }).to_string()
    } else {
        serde_json::to_string(&response)
            .unwrap_or_else(|_| r#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.into())
    };
    // A database that is away is a 503 in either media type, so that clients and load balancers
    // retry instead of taking it for an answer.
    let unavailable = response.errors.iter().any(|e| code_of(e) == "UNAVAILABLE");
    if unavailable {
        status = StatusCode::SERVICE_UNAVAILABLE;
    }
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    if unavailable {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    // Answers hold personal data and depend on the caller: never kept by a shared cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept, Authorization"));
    let code = response.errors.first().map_or("OK".to_string(), |e| code_of(e).to_string());
    res.extensions_mut().insert(crate::telemetry::Outcome { operation: String::new(), code });
    res
}

/// A request error on its own (refused before execution), answered like one from the executor.
pub fn request_error(error: ServerError, media: MediaType) -> Response {
    respond(async_graphql::Response::from_errors(vec![error]), media)
}

fn code_of(e: &ServerError) -> &str {
    match e.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(async_graphql::Value::String(code)) => code,
        _ => "",
    }
}

/// Errors that async-graphql raises itself (validation, the complexity limit, an argument that
/// does not coerce) carry no code of ours: they get one here, so every error has one.
fn add_missing_code(e: &mut ServerError, request_error: bool) {
    if !code_of(e).is_empty() {
        return;
    }
    let code = if !request_error {
        // Every resolver error passes through `ApiError` and has its code; what is left is the
        // executor's coercion of an argument (`Failed to parse "NaiveDate"`, `Invalid value`)
        // that `graphql::coercion` could not place in the document.
        "VALIDATION"
    } else if e.message == "Query is too complex." {
        "QUERY_TOO_COMPLEX"
    } else {
        "GRAPHQL_VALIDATION_FAILED"
    };
    e.extensions.get_or_insert_with(Default::default).set("code", code);
}

/// The status a request error answers with in `application/graphql-response+json`.
fn status_of(code: &str) -> StatusCode {
    match code {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "PERSISTED_QUERY_NOT_FOUND" => StatusCode::NOT_FOUND,
        "TOO_MANY_ATTEMPTS" => StatusCode::TOO_MANY_REQUESTS,
        "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        "INTERNAL" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The code of an answer by its status alone (`OK` for a success).
pub fn code_of_status(status: StatusCode) -> &'static str {
    match status {
        s if s.is_success() || s.is_redirection() || s.is_informational() => "OK",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::REQUEST_TIMEOUT => "TIMEOUT",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::TOO_MANY_REQUESTS => "TOO_MANY_ATTEMPTS",
        StatusCode::SERVICE_UNAVAILABLE => "UNAVAILABLE",
        s if s.is_server_error() => "INTERNAL",
        _ => "BAD_REQUEST",
    }
}

/// Responses that a layer or the router made without a body of ours (an unknown path, a
/// method the route does not take, the request timeout) get one: JSON with a code.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let code = code_of_status(status);
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    let mut refused = Refusal::new(status, code, message).into_response();
    for (name, value) in response.headers() {
        refused.headers_mut().entry(name).or_insert(value.clone());
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, value.parse().unwrap());
        h
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_last_address_they_did_not_add() {
        let trusted: Vec<Proxy> = vec!["10.0.0.0/8".parse().unwrap(), "192.0.2.1".parse().unwrap()];
        let peer = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let forwarded = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", v.parse().unwrap());
            h
        };
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        // A forged start of the header is passed over: the proxies' own entry wins.
        let h = forwarded("198.51.100.9, 203.0.113.7, 10.1.2.3");
        assert_eq!(client_address(peer("192.0.2.1"), &h, &trusted), ip("203.0.113.7"));
        // A peer that is not trusted is the client, whatever it says.
        assert_eq!(client_address(peer("203.0.113.50"), &h, &trusted), ip("203.0.113.50"));
        assert_eq!(client_address(peer("192.0.2.1"), &HeaderMap::new(), &trusted), ip("192.0.2.1"));
        assert_eq!(client_address(peer("192.0.2.1"), &forwarded("junk, 10.0.0.7"), &trusted), ip("10.0.0.7"));
        assert_eq!(client_address(peer("192.0.2.1"), &forwarded("2001:db8::1"), &trusted), ip("2001:db8::1"));
        assert!("not an address".parse::<Proxy>().is_err());
    }

    #[test]
    fn the_media_type_follows_accept() {
        assert_eq!(MediaType::of(&HeaderMap::new()), MediaType::Json);
        assert_eq!(MediaType::of(&accept("*/*")), MediaType::Json);
        assert_eq!(MediaType::of(&accept("application/json")), MediaType::Json);
        assert_eq!(MediaType::of(&accept("application/graphql-response+json")), MediaType::GraphqlResponse);
        assert_eq!(
            MediaType::of(&accept("application/graphql-response+json, application/json;q=0.9")),
            MediaType::GraphqlResponse
        );
        assert_eq!(MediaType::of(&accept("application/json, application/graphql-response+json")), MediaType::Json);
        assert!(wants_html(&accept("text/html,application/xhtml+xml,*/*;q=0.8")));
        assert!(!wants_html(&accept("application/json")));
    }
}
