//! The app's own "Send a file" picker, for machines where no system file dialog can be
//! shown (a Linux desktop without the XDG desktop portal or zenity, a bare X server):
//! the state of one picker window — which folder, what is in it, what is chosen — and
//! the folder listing the backend makes for it. The state is pure; listing a folder is
//! I/O and runs on the backend thread ([`list_folder`]).

use std::path::{Path, PathBuf};

/// The most entries one folder shows; a bigger folder says how many were left out.
pub const MAX_ENTRIES: usize = 2000;

/// One thing in a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderEntry {
    pub name: String,
    pub folder: bool,
    /// Bytes, for files.
    pub size: u64,
}

/// What a folder holds, folders first, each part by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderListing {
    pub folder: PathBuf,
    pub entries: Vec<FolderEntry>,
    /// How many entries were not listed (past [`MAX_ENTRIES`]).
    pub left_out: usize,
}

/// One open picker (a conversation holds its own).
#[derive(Clone, Debug, PartialEq)]
pub struct FilePicker {
    /// The folder being shown (or asked for).
    pub folder: PathBuf,
    /// The folder field as typed.
    pub folder_draft: String,
    /// `None` while the backend lists `folder`.
    pub listing: Option<Result<FolderListing, String>>,
    /// The file chosen in the list, or a name typed.
    pub file_name: String,
    /// Why "Send" did nothing, until the next step.
    pub problem: Option<String>,
}

/// What the picker wants done after a click.
#[derive(Clone, Debug, PartialEq)]
pub enum PickerStep {
    /// List this folder (the backend answers with a listing).
    List(PathBuf),
    /// Send this file and close the picker.
    Send(PathBuf),
    /// Nothing to do (the reason is shown in the picker).
    Stay,
}

impl FilePicker {
    /// A picker showing `folder`; the caller lists it.
    pub fn new(folder: PathBuf) -> Self {
        Self {
            folder_draft: folder.display().to_string(),
            folder,
            listing: None,
            file_name: String::new(),
            problem: None,
        }
    }

    /// Goes to `folder` (a double-clicked folder, Up, a place, the typed field).
    pub fn go_to(&mut self, folder: PathBuf) -> PickerStep {
        self.folder_draft = folder.display().to_string();
        self.folder = folder.clone();
        self.listing = None;
        self.file_name.clear();
        self.problem = None;
        PickerStep::List(folder)
    }

    /// The folder above, if any.
    pub fn up(&mut self) -> PickerStep {
        match self.folder.parent() {
            Some(parent) => self.go_to(parent.to_path_buf()),
            None => PickerStep::Stay,
        }
    }

    /// The backend's listing, if it is for the folder still shown.
    pub fn listed(&mut self, folder: &Path, listing: Result<FolderListing, String>) {
        if folder == self.folder {
            self.listing = Some(listing);
        }
    }

    /// A click on an entry: a folder opens, a file is chosen.
    pub fn pick(&mut self, entry: &FolderEntry) -> PickerStep {
        if entry.folder {
            self.go_to(self.folder.join(&entry.name))
        } else {
            self.file_name = entry.name.clone();
            PickerStep::Stay
        }
    }

    /// "Send": the chosen or typed name (absolute, or in the folder shown). A typed
    /// folder opens instead; a name that is not in the listing is refused here, so the
    /// conversation only hears of files that were there.
    pub fn confirm(&mut self) -> Result<PickerStep, String> {
        let typed = self.file_name.trim();
        if typed.is_empty() {
            return Err("Choose a file to send.".into());
        }
        let path = self.folder.join(typed);
        if Path::new(typed).is_absolute() {
            // A full path typed: sent as it is (the conversation says if it is no file).
            return Ok(PickerStep::Send(path));
        }
        let entry = self
            .listing
            .as_ref()
            .and_then(|l| l.as_ref().ok())
            .and_then(|l| l.entries.iter().find(|e| e.name == typed));
        match entry {
            Some(entry) if entry.folder => Ok(self.go_to(path)),
            Some(_) => Ok(PickerStep::Send(path)),
            None => Err(format!("There is no file called {typed} in this folder.")),
        }
    }

    /// The chosen file, if it is one the listing holds.
    pub fn chosen(&self) -> Option<&FolderEntry> {
        let listing = self.listing.as_ref()?.as_ref().ok()?;
        listing.entries.iter().find(|e| !e.folder && e.name == self.file_name)
    }
}

/// Lists `folder` for the picker (blocking I/O: run it off the UI thread). Hidden
/// entries (a leading dot) are left out; entries whose type cannot be read count as
/// files of size 0 rather than being dropped.
pub fn list_folder(folder: &Path) -> Result<FolderListing, String> {
    let reader =
        std::fs::read_dir(folder).map_err(|e| format!("{} cannot be opened: {e}", folder.display()))?;
    let mut entries = Vec::new();
    let mut left_out = 0;
    for entry in reader.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if entries.len() >= MAX_ENTRIES {
            left_out += 1;
            continue;
        }
        // `metadata` follows links, so a link to a folder opens like a folder.
        let meta = std::fs::metadata(entry.path()).ok();
        let is_folder = meta.as_ref().is_some_and(|m| m.is_dir());
        let size = meta.filter(|m| m.is_file()).map_or(0, |m| m.len());
        entries.push(FolderEntry { name, folder: is_folder, size });
    }
    entries.sort_by(|a, b| {
        b.folder.cmp(&a.folder).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    Ok(FolderListing { folder: folder.to_path_buf(), entries, left_out })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn picker_in(dir: &Path) -> FilePicker {
        let mut picker = FilePicker::new(dir.to_path_buf());
        let listing = list_folder(dir);
        picker.listed(dir, listing);
        picker
    }

    #[test]
    fn folders_come_first_then_files_by_name_without_hidden_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.txt"), "12345").unwrap();
        std::fs::write(dir.path().join("A.txt"), "").unwrap();
        std::fs::write(dir.path().join(".secret"), "").unwrap();
        std::fs::create_dir(dir.path().join("zeta")).unwrap();
        let listing = list_folder(dir.path()).unwrap();
        let names: Vec<(&str, bool, u64)> =
            listing.entries.iter().map(|e| (e.name.as_str(), e.folder, e.size)).collect();
        assert_eq!(names, [("zeta", true, 0), ("A.txt", false, 0), ("b.txt", false, 5)]);
        assert_eq!(listing.left_out, 0);
    }

    #[test]
    fn a_missing_folder_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let error = list_folder(&dir.path().join("nope")).unwrap_err();
        assert!(error.contains("nope") && error.contains("cannot be opened"), "{error}");
    }

    #[test]
    fn choosing_a_file_then_send_sends_that_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "hi").unwrap();
        let mut picker = picker_in(dir.path());
        assert_eq!(picker.confirm(), Err("Choose a file to send.".into()));
        let entry = picker.listing.clone().unwrap().unwrap().entries[0].clone();
        assert_eq!(picker.pick(&entry), PickerStep::Stay);
        assert_eq!(picker.chosen().map(|e| e.size), Some(2));
        assert_eq!(picker.confirm(), Ok(PickerStep::Send(dir.path().join("notes.txt"))));
    }

    #[test]
    fn folders_open_and_up_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("inner")).unwrap();
        let mut picker = picker_in(dir.path());
        let inner = picker.listing.clone().unwrap().unwrap().entries[0].clone();
        assert_eq!(picker.pick(&inner), PickerStep::List(dir.path().join("inner")));
        assert_eq!(picker.listing, None, "waiting for the new listing");
        // A late listing of the old folder is not shown for the new one.
        picker.listed(dir.path(), list_folder(dir.path()));
        assert_eq!(picker.listing, None);
        assert_eq!(picker.up(), PickerStep::List(dir.path().to_path_buf()));
        assert_eq!(picker.folder_draft, dir.path().display().to_string());
    }

    #[test]
    fn a_typed_name_must_be_in_the_folder_and_a_typed_folder_opens() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("photos")).unwrap();
        let mut picker = picker_in(dir.path());
        picker.file_name = "missing.txt".into();
        assert_eq!(picker.confirm(), Err("There is no file called missing.txt in this folder.".into()));
        picker.file_name = "photos".into();
        assert_eq!(picker.confirm(), Ok(PickerStep::List(dir.path().join("photos"))));
        picker.file_name = "/etc/hostname".into();
        assert_eq!(picker.confirm(), Ok(PickerStep::Send("/etc/hostname".into())));
    }
}
