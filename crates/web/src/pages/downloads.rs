//! Downloads: the page listing each channel's published builds (version, notes, size,
//! SHA-256, the release key), the files themselves (with `Content-Disposition` and
//! single byte-range requests, so a big download can resume), and `/download/latest`,
//! which sends a visitor to the newest stable build for their platform.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mocha_api::BuildFile;
use mocha_passport::PLATFORMS;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::respond;
use super::site::{Connect, layout};
use crate::extract::MaybeSignedIn;
use crate::{SiteState, WebError};

const CHANNELS: [(&str, &str); 3] = [
    ("stable", "For everyone. Tested, calm and ready for daily chatting."),
    ("beta", "Next month's features a little early. Mostly ready."),
    ("dev", "Fresh from the oven, for testers. Expect crumbs."),
];

/// How much of a file is read at a time while sending it.
const CHUNK: usize = 64 * 1024;

pub struct ChannelBuilds {
    pub channel: &'static str,
    pub blurb: &'static str,
    pub files: Vec<PlatformFile>,
}

pub struct PlatformFile {
    pub platform: &'static str,
    pub label: &'static str,
    pub file: BuildFile,
    pub size: String,
}

#[derive(Template)]
#[template(path = "download.html")]
struct DownloadPage {
    layout: super::Layout,
    channels: Vec<ChannelBuilds>,
    release_key: Option<String>,
    connect: Connect,
}

fn label(platform: &str) -> &'static str {
    match platform {
        "windows-x86_64" => "Windows (64-bit)",
        _ => "Linux (x86-64)",
    }
}

/// `12.3 MB`, for people; the page shows the exact byte count too.
fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1_000_000.0),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1_000.0),
        b => format!("{b} bytes"),
    }
}

pub async fn page(
    State(site): State<SiteState>,
    MaybeSignedIn(user): MaybeSignedIn,
) -> Result<Response, WebError> {
    let manifest = site.passport.update_manifest().await?;
    let channels = CHANNELS
        .iter()
        .map(|(channel, blurb)| ChannelBuilds {
            channel,
            blurb,
            files: PLATFORMS
                .iter()
                .filter_map(|platform| {
                    let file = manifest.file(channel, platform)?.clone();
                    Some(PlatformFile { platform, label: label(platform), size: human_size(file.size), file })
                })
                .collect(),
        })
        .collect();
    let report = site.passport.status_board().report();
    let page = DownloadPage {
        layout: layout("Download", "download", &user),
        channels,
        release_key: manifest.release_key,
        connect: Connect::gather(&site, &report).await,
    };
    Ok(respond(StatusCode::OK, &page))
}

/// The platform a browser runs on, from its User-Agent (Linux when it cannot tell).
fn platform_of(headers: &HeaderMap) -> &'static str {
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if agent.contains("Windows") { "windows-x86_64" } else { "linux-x86_64" }
}

/// The newest stable build for the visitor's platform, or the page if there is none.
pub async fn latest(State(site): State<SiteState>, headers: HeaderMap) -> Result<Response, WebError> {
    let manifest = site.passport.update_manifest().await?;
    Ok(match manifest.file("stable", platform_of(&headers)) {
        Some(file) => Redirect::to(&file.url).into_response(),
        None => Redirect::to("/download").into_response(),
    })
}

/// A published file. Only what the manifest names is served, so no path from the
/// URL ever reaches the file system.
pub async fn file(
    State(site): State<SiteState>,
    Path((channel, platform, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let manifest = site.passport.update_manifest().await?;
    let file =
        manifest.file(&channel, &platform).filter(|file| file.file_name == name).ok_or(WebError::NotFound)?;
    let path = site.config.downloads_dir.join(&channel).join(&platform).join(&file.file_name);
    let mut opened = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::warn!(path = %path.display(), error = %e, "a published build is missing");
        WebError::NotFound
    })?;
    let size = opened.metadata().await.map_err(|e| WebError::Internal(e.to_string()))?.len();
    let etag = format!("\"{}\"", file.sha256);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_matches(&headers, &etag))
        .map(|range| parse_range(range, size));
    let (status, start, length) = match range {
        None | Some(Range::Ignored) => (StatusCode::OK, 0, size),
        Some(Range::Bytes { start, end }) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Some(Range::Unsatisfiable) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            response.headers_mut().insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
            return Ok(response);
        }
    };
    if start > 0 {
        opened.seek(std::io::SeekFrom::Start(start)).await.map_err(|e| WebError::Internal(e.to_string()))?;
    }
    let body = Body::from_stream(futures_util::stream::try_unfold(
        (opened.take(length), vec![0u8; CHUNK]),
        |(mut reader, mut buffer)| async move {
            let read = reader.read(&mut buffer).await?;
            Ok::<_, std::io::Error>(
                (read > 0).then(|| (bytes::Bytes::copy_from_slice(&buffer[..read]), (reader, buffer))),
            )
        },
    ));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, value(&length.to_string()));
    h.insert(header::CONTENT_DISPOSITION, value(&format!("attachment; filename=\"{}\"", file.file_name)));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, value(&etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(header::CONTENT_RANGE, value(&format!("bytes {start}-{}/{size}", start + length - 1)));
    }
    Ok(response)
}

/// Header values built here are ASCII: file names are `mocha-messenger-VERSION-PLATFORM`.
fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// `If-Range` with another file's tag means "send it whole".
fn if_range_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()).is_none_or(|tag| tag.trim() == etag)
}

#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// Inclusive.
    Bytes {
        start: u64,
        end: u64,
    },
    Unsatisfiable,
    /// Not one byte range we understand (several ranges, other units): the whole file.
    Ignored,
}

fn parse_range(header: &str, size: u64) -> Range {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return Range::Ignored };
    if spec.contains(',') {
        return Range::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Range::Ignored };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = match (first.trim().is_empty(), last.trim().is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match number(last) {
            Some(0) => return Range::Unsatisfiable,
            Some(n) => (size.saturating_sub(n), size.saturating_sub(1)),
            None => return Range::Ignored,
        },
        (false, true) => match number(first) {
            Some(start) => (start, size.saturating_sub(1)),
            None => return Range::Ignored,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(start), Some(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
            _ => return Range::Ignored,
        },
        (true, true) => return Range::Ignored,
    };
    if size == 0 || start >= size { Range::Unsatisfiable } else { Range::Bytes { start, end } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_are_read_as_rfc_9110_says() {
        let r = |s| parse_range(s, 1000);
        assert_eq!(r("bytes=0-99"), Range::Bytes { start: 0, end: 99 });
        assert_eq!(r("bytes=900-"), Range::Bytes { start: 900, end: 999 });
        assert_eq!(r("bytes=-100"), Range::Bytes { start: 900, end: 999 });
        assert_eq!(r("bytes=-5000"), Range::Bytes { start: 0, end: 999 });
        assert_eq!(r("bytes=990-5000"), Range::Bytes { start: 990, end: 999 });
        assert_eq!(r("bytes=1000-"), Range::Unsatisfiable);
        assert_eq!(r("bytes=-0"), Range::Unsatisfiable);
        assert_eq!(r("bytes=0-1,5-6"), Range::Ignored);
        assert_eq!(r("bytes=9-3"), Range::Ignored);
        assert_eq!(r("items=0-1"), Range::Ignored);
        assert_eq!(r("bytes=x-"), Range::Ignored);
    }

    #[test]
    fn the_platform_comes_from_the_user_agent() {
        let agent = |ua: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::USER_AGENT, HeaderValue::from_static(ua));
            platform_of(&headers)
        };
        assert_eq!(agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120"), "windows-x86_64");
        assert_eq!(agent("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120"), "linux-x86_64");
        assert_eq!(platform_of(&HeaderMap::new()), "linux-x86_64");
    }
}
