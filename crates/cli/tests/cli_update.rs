//! `mocha update` against a real server with a published build: it pins the server's
//! release key, downloads and verifies the build, installs it over a program file, and
//! refuses a build once the server's key is not the pinned one.
#![allow(clippy::unwrap_used)]

mod support;

use support::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mocha_update_downloads_verifies_installs_and_keeps_to_the_pinned_key() {
    let s = Server::start().await;
    let alice = s.person("alice");
    let work = tempfile::tempdir().unwrap();
    let mut bytes = b"\x7fELF".to_vec();
    bytes.extend((0..80_000u32).map(|i| (i % 253) as u8));
    let build = work.path().join("build");
    std::fs::write(&build, &bytes).unwrap();
    let publish =
        |version: &str| mocha_server::publish::Release::new("stable", "linux-x86_64", version, build.clone());

    // Nothing published: up to date, nothing written.
    let up_to_date = alice.json(&["update", "--current", "0.0.1"]).await;
    assert_eq!(up_to_date["event"], "up_to_date", "{up_to_date}");

    mocha_server::publish::publish(s.dir.path(), &publish("1.2.0")).unwrap();
    let program = work.path().join("bin/mocha-messenger");
    std::fs::create_dir_all(program.parent().unwrap()).unwrap();
    std::fs::write(&program, b"old").unwrap();
    let staging = work.path().join("staging");
    let run = alice
        .ok(&[
            "update",
            "--current",
            "0.0.1",
            "--into",
            staging.to_str().unwrap(),
            "--install",
            program.to_str().unwrap(),
            "--json",
        ])
        .await;
    let events: Vec<serde_json::Value> =
        run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["release_key_pinned", "downloading", "verified", "installed"], "{}", run.stdout);
    assert_eq!(std::fs::read(&program).unwrap(), bytes, "the program file is the new build");
    let profile: serde_json::Value =
        serde_json::from_slice(&std::fs::read(alice.profile()).unwrap()).unwrap();
    let pinned = profile["release_keys"][s.url()].as_str().unwrap().to_string();
    assert_eq!(pinned, events[0]["key"].as_str().unwrap());

    // The server's release key replaced (a new data folder, or an attacker's): refused.
    std::fs::remove_file(s.dir.path().join("keys/release-ed25519.seed")).unwrap();
    mocha_server::publish::publish(s.dir.path(), &publish("1.3.0")).unwrap();
    let refused = alice.fails(&["update", "--current", "0.0.1", "--into", staging.to_str().unwrap()]).await;
    assert!(refused.stderr.contains("release key has changed"), "{}", refused.stderr);
    assert!(
        !staging.join("mocha-messenger-1.3.0-linux-x86_64").exists(),
        "nothing is downloaded from a server whose key changed"
    );
}
