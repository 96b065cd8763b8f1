//! `updates.json`, the update manifest in the data folder that Passport reads on every
//! update check and `mocha-server publish` rewrites.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocha_api::UpdateManifest;

fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = serde_json::from_slice::<UpdateManifest>(data) else { return };
    // What `publish` writes back is what was read.
    let written = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    assert_eq!(serde_json::from_slice::<UpdateManifest>(&written).as_ref().ok(), Some(&manifest));
    for (channel, build) in &manifest.channels {
        for platform in build.files.keys() {
            assert!(manifest.file(channel, platform).is_some());
        }
    }
});
