//! The HTTP adapter: every request, whatever its path or verb, goes to
//! [`Engine::handle`]; this module only moves bytes between hyper and the
//! engine.
//!
//! - **Bodies are read up to the engine's limit plus one byte.** A larger
//!   body is handed over truncated at that length, so the engine answers
//!   413 with its OperationOutcome without the server reading (or holding)
//!   the rest. A body that breaks off or fails to decompress is answered by
//!   [`Engine::reject`] as 400 BAD_REQUEST.
//! - **gzip** both ways (digest §2.1 "SHALL support gzip"; accessrecord
//!   §1.2): request bodies with `Content-Encoding: gzip` are decoded before
//!   the engine sees them, responses are gzipped when `Accept-Encoding`
//!   allows it.
//! - **The engine call blocks** (the sled store waits for `fsync` on a
//!   booking), so it runs on tokio's blocking pool, never on a runtime
//!   worker.
//! - **getcarerecord responses are streamed** (`Transfer-Encoding: chunked`
//!   on HTTP/1.1), because the provider test suite expects it on a plain
//!   Summary response (accessrecord §1.2).
//! - **Every call is audited** with the engine's record (R84).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use gpconnect_core::Error;
use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::engine::{Engine, HttpRequest, HttpResponse};
use http_body_util::BodyExt;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

use crate::audit::AuditLog;

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Where audit lines go.
    pub audit: Arc<AuditLog>,
}

/// The router: one fallback handler for every path and verb, with gzip
/// both ways.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .no_br()
                .no_deflate()
                .no_zstd(),
        )
        .layer(
            RequestDecompressionLayer::new()
                .gzip(true)
                .no_br()
                .no_deflate()
                .no_zstd(),
        )
}

/// Why a request body could not be read whole.
enum BodyError {
    /// Longer than the limit: the first `limit + 1` bytes.
    TooLarge(Bytes),
    /// Broke off, or failed to decode.
    Unreadable(String),
}

/// Read at most `limit + 1` bytes of `body`.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let room = limit.saturating_add(1).saturating_sub(buf.len());
        if data.len() >= room {
            buf.extend_from_slice(&data[..room]);
            return Err(BodyError::TooLarge(Bytes::from(buf)));
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let limit = state.engine.config().max_body_bytes;
    let (body, broken) = match read_body(body, limit).await {
        Ok(bytes) => (bytes, None),
        // The engine answers 413 for a body over its limit.
        Err(BodyError::TooLarge(prefix)) => (prefix, None),
        Err(BodyError::Unreadable(why)) => (Bytes::new(), Some(why)),
    };
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    // Non-UTF-8 header values are left out: to the engine they are absent,
    // which is the answer a malformed value gets anyway.
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let engine = Arc::clone(&state.engine);
    let answered = tokio::task::spawn_blocking(move || {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = HttpRequest {
            method: &method,
            path: &path,
            query: &query,
            headers: &headers,
            body: &body,
        };
        match broken {
            None => engine.handle(&request),
            Some(why) => engine.reject(
                &request,
                &Error::bad_request(format!("the request body could not be read: {why}")),
            ),
        }
    })
    .await;
    match answered {
        Ok(response) => {
            state.audit.record(&response.audit);
            to_http(response)
        }
        // Only when the runtime is shutting down mid-request: the engine
        // itself never panics out of `handle`.
        Err(e) => {
            tracing::error!(error = %e, "request task failed");
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
    }
}

/// The engine's answer as an HTTP response.
fn to_http(answer: HttpResponse) -> Response {
    let streamed = answer.audit.interaction.as_deref()
        == Some(Interaction::GetCareRecord.interaction_id())
        && !answer.body.is_empty();
    let body = if streamed {
        let chunk: Result<Bytes, std::convert::Infallible> = Ok(Bytes::from(answer.body));
        Body::from_stream(futures_util::stream::once(async move { chunk }))
    } else {
        Body::from(answer.body)
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => tracing::error!(header = %name, "the engine produced an invalid header"),
        }
    }
    response
}
