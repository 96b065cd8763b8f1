//! `client-options.json`, the messenger's settings file, through its real loader and saver
//! (`OptionsFile::load` and `save` in `crates/messenger/src/settings.rs`): whatever is in
//! the file, loading never fails and never panics; a file that loads is saved and loaded
//! back unchanged (unknown keys included); one that does not is moved aside and defaults
//! are used, with a notice.
//!
//! `settings.rs` is compiled from its own source rather than through `mocha-messenger`
//! (eframe, cpal, the codecs); the two helpers it takes from its crate for default values,
//! a folder and a status label, are stood in for below.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/messenger/src/settings.rs"]
mod settings;

/// Stand-ins for `mocha-messenger`'s `platform` and `model` (defaults only, not parsing).
mod platform {
    pub fn default_receive_folder() -> std::path::PathBuf {
        std::path::PathBuf::from("/home/someone/Documents")
    }
    pub fn config_dir() -> std::path::PathBuf {
        std::env::temp_dir()
    }
}
mod model {
    pub fn status_label(_: mocha_proto::Status) -> &'static str {
        "Online"
    }
}

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use settings::{ClientOptions, FILE_NAME, OptionsFile};

static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("mocha-fuzz-client-options-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
});

fuzz_target!(|data: &[u8]| {
    let dir = &*DIR;
    let file = OptionsFile::new(dir.clone());
    std::fs::write(file.path(), data).expect("the scratch file is written");
    let loaded = file.load();
    match loaded.notice {
        None => {
            file.save(&loaded.options).expect("settings save");
            let again = file.load();
            assert!(again.notice.is_none(), "what was saved loads: {:?}", again.notice);
            assert_eq!(again.options, loaded.options, "settings changed on save and load");
        }
        Some(_) => {
            assert_eq!(loaded.options, ClientOptions::default());
            assert!(!file.path().exists(), "the damaged file was moved aside");
        }
    }
    // Start the next run from an empty folder.
    for entry in std::fs::read_dir(dir).expect("the scratch folder").flatten() {
        if entry.file_name().to_string_lossy().starts_with(FILE_NAME) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
});
