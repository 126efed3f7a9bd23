//! The emulator's file storage, standing in for the storage provider behind presigned
//! uploads and plan file downloads: `POST /_storage/` takes a `multipart/form-data` upload
//! form (the fields `createPresignedUploadUrl` gave, then the file as `file`) and answers
//! 204; `GET /_storage/{key}` serves an uploaded file's bytes. Neither needs an API key,
//! as the provider's signed URLs do not.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::App;

/// The largest file the emulator stores.
const UPLOAD_LIMIT: usize = 16 << 20;

/// The storage routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/_storage/",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/_storage/{*key}", get(download))
}

fn refused(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain")],
        message.into(),
    )
        .into_response()
}

async fn upload(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(parts) = multipart(content_type, &body) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "Expected a multipart/form-data form.",
        );
    };
    let mut fields = HashMap::new();
    let mut file = None;
    for part in parts {
        if part.name == "file" {
            file = Some(Bytes::copy_from_slice(part.data));
        } else {
            fields.insert(part.name, String::from_utf8_lossy(part.data).into_owned());
        }
    }
    let Some(file) = file else {
        return refused(StatusCode::BAD_REQUEST, "The form has no file field.");
    };
    match app.store().uploads.store(&fields, file) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(message) => refused(StatusCode::FORBIDDEN, message),
    }
}

async fn download(State(app): State<App>, Path(key): Path<String>) -> Response {
    match app.store().uploads.get(&key) {
        Some((content_type, bytes)) => {
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        None => refused(StatusCode::NOT_FOUND, "No such file."),
    }
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, PartialEq)]
struct Part<'a> {
    name: String,
    data: &'a [u8],
}

/// The parts of a `multipart/form-data` body, or `None` when it is not one.
fn multipart<'a>(content_type: &str, body: &'a [u8]) -> Option<Vec<Part<'a>>> {
    let mut params = content_type.split(';').map(str::trim);
    if !params.next()?.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut rest = &body[find(body, delimiter)? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end = find(rest, delimiter)?;
        let part = rest[..end].strip_suffix(b"\r\n")?;
        rest = &rest[end + delimiter.len()..];
        let split = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..split]).ok()?;
        let data = &part[split + 4..];
        let disposition = head.split("\r\n").find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-disposition")
                .then_some(value)
        })?;
        let name = disposition
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("name="))?
            .trim_matches('"')
            .to_owned();
        parts.push(Part { name, data });
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_read_part_by_part() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\ntmp/a/b.png\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.png\"\r\n\
Content-Type: image/png\r\n\r\n\x89PNG\r\n\r\n--XyZ--\r\n";
        let parts = multipart("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(
            parts,
            vec![
                Part {
                    name: "key".into(),
                    data: b"tmp/a/b.png"
                },
                Part {
                    name: "file".into(),
                    data: b"\x89PNG\r\n"
                },
            ]
        );
        assert!(multipart("application/json", body).is_none());
    }
}
