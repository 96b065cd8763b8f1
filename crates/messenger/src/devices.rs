//! The microphones, speakers and cameras present on this machine, for the device
//! pickers in Options › Audio & video. Sound devices come from `cpal`'s default host
//! (ALSA on Linux, WASAPI on Windows); cameras from [`crate::platform::cameras`].

use cpal::traits::{DeviceTrait, HostTrait};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceLists {
    pub microphones: Vec<String>,
    pub speakers: Vec<String>,
    pub cameras: Vec<String>,
    /// Human-readable reasons a list may be incomplete ("no sound system: …").
    pub problems: Vec<String>,
}

/// The audio and video devices present on this machine. Blocks (ALSA/WASAPI, sysfs): call off the UI thread. Never panics.
pub fn list_devices() -> DeviceLists {
    let mut lists = DeviceLists::default();
    let host = cpal::default_host();
    match host.input_devices() {
        Ok(devices) => lists.microphones = device_names(devices),
        Err(e) => lists.problems.push(format!("no sound system: microphones could not be listed ({e})")),
    }
    match host.output_devices() {
        Ok(devices) => lists.speakers = device_names(devices),
        Err(e) => lists.problems.push(format!("no sound system: speakers could not be listed ({e})")),
    }
    if lists.problems.is_empty() {
        let system = host.id().name();
        if lists.speakers.is_empty() {
            lists.problems.push(format!("no speakers found ({system} lists none)"));
        }
        if lists.microphones.is_empty() {
            lists.problems.push(format!("no microphone found ({system} lists none)"));
        }
    }
    match crate::platform::cameras() {
        Ok(cameras) => lists.cameras = cameras,
        Err(reason) => lists.problems.push(reason),
    }
    lists.cameras.push(crate::call_media::TEST_PATTERN_CAMERA.to_string());
    lists
}

/// A device that vanished while being listed is skipped: it is no longer a choice.
fn device_names<D: DeviceTrait>(devices: impl Iterator<Item = D>) -> Vec<String> {
    let names = devices
        .filter_map(|device| device.description().ok())
        .filter(|description| !is_discarding(description))
        .map(|description| description.name().trim().to_owned());
    crate::platform::unique(names.filter(|name| !name.is_empty()))
}

/// ALSA's "null" device, listed even without a sound card, swallows all sound: it is
/// never a microphone or speakers a person would pick.
fn is_discarding(description: &cpal::DeviceDescription) -> bool {
    description.driver() == Some("null")
}

/// The device whose listed name is `name`, if it is still there.
pub(crate) fn output_device_named(
    host: &cpal::Host,
    name: &str,
) -> Result<Option<cpal::Device>, cpal::Error> {
    Ok(host
        .output_devices()?
        .find(|device| device.description().is_ok_and(|description| description.name().trim() == name)))
}

/// A Linux machine with no sound at all, like CI and sandboxes: no ALSA card and no
/// sound server to talk to. Tests expect problems to be reported there.
#[cfg(test)]
pub(crate) fn linux_without_sound() -> bool {
    let no_card =
        std::fs::read_to_string("/proc/asound/cards").map_or(true, |cards| cards.contains("no soundcards"));
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from);
    let no_server = std::env::var_os("PULSE_SERVER").is_none()
        && runtime.is_none_or(|dir| !dir.join("pulse/native").exists() && !dir.join("pipewire-0").exists());
    cfg!(target_os = "linux") && no_card && no_server
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_devices_never_panics_and_explains_gaps() {
        let lists = list_devices();
        for name in lists.microphones.iter().chain(&lists.speakers).chain(&lists.cameras) {
            assert!(!name.is_empty());
        }
        for list in [&lists.microphones, &lists.speakers, &lists.cameras] {
            let mut sorted = list.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len(), "duplicates in {list:?}");
        }
        assert!(lists.problems.iter().all(|problem| !problem.is_empty()));
        if linux_without_sound() {
            assert_eq!((lists.microphones.len(), lists.speakers.len()), (0, 0), "{lists:?}");
            assert!(
                lists.problems.iter().any(|problem| problem.starts_with("no speakers found")),
                "{lists:?}"
            );
            assert!(
                lists.problems.iter().any(|problem| problem.starts_with("no microphone found")),
                "{lists:?}"
            );
        }
    }

    #[test]
    fn an_unknown_speaker_name_finds_no_device() {
        let host = cpal::default_host();
        if let Ok(found) = output_device_named(&host, "No Such Speakers 4711") {
            assert!(found.is_none());
        }
    }
}
