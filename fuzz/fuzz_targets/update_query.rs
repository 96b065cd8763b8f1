//! The query string of `GET /api/v1/updates` (axum's `Query`, which is
//! `serde_urlencoded`, into `UpdateQuery`) and the version in it, parsed the way the
//! update check parses it (`semver::Version::parse` of the trimmed text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocha_api::UpdateQuery;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = serde_urlencoded::from_bytes::<UpdateQuery>(data) else { return };
    let encoded = serde_urlencoded::to_string(&query).expect("a query encodes");
    assert_eq!(serde_urlencoded::from_str::<UpdateQuery>(&encoded).as_ref(), Ok(&query), "{encoded}");

    if let Ok(version) = semver::Version::parse(query.version.trim()) {
        assert_eq!(semver::Version::parse(&version.to_string()).ok(), Some(version));
    }
});
