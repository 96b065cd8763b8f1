//! `mocha update`: the client's updater from the terminal. The server's release key is
//! pinned in the profile (per server) the first time; a build that fails its size,
//! SHA-256 or signature check is refused and deleted.

use std::path::PathBuf;

use anyhow::{Result, bail};
use mocha_client::updates;
use serde_json::json;

use super::files::progress_bar;
use crate::context::Context;

pub async fn run(
    cx: &Context,
    channel: &str,
    current: Option<&str>,
    into: Option<PathBuf>,
    install: Option<PathBuf>,
) -> Result<()> {
    let passport = cx.passport()?;
    let server = cx.server();
    let pinned = cx.profile.release_keys.get(&server).cloned();
    let current = current.unwrap_or(env!("CARGO_PKG_VERSION"));
    let (answer, offer) = updates::check(&passport, channel, current, pinned.as_deref()).await?;
    let Some(offer) = offer else {
        cx.out.print(
            answer.message.clone(),
            json!({"event": "up_to_date", "channel": channel, "version": current}),
        );
        return Ok(());
    };
    if pinned.is_none() {
        let mut profile = cx.store.load()?;
        profile.release_keys.insert(server.clone(), offer.release_key.clone());
        cx.store.save(&profile)?;
        cx.out.print(
            format!("Remembering {server}'s release key {}.", offer.release_key),
            json!({"event": "release_key_pinned", "key": offer.release_key}),
        );
    }
    cx.out.print(
        format!("Downloading Mocha Messenger {} ({} bytes)…", offer.file.version, offer.file.size),
        json!({"event": "downloading", "version": offer.file.version, "size": offer.file.size}),
    );
    let bar = progress_bar(cx, offer.file.size);
    let dir = into.unwrap_or_else(|| PathBuf::from("."));
    let staged = updates::download(&passport, &offer, &dir, |done, _| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    })
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let staged = staged?;
    cx.out.print(
        format!("Verified {} (SHA-256 {}, signed by the release key).", staged.display(), offer.file.sha256),
        json!({"event": "verified", "path": staged, "sha256": offer.file.sha256, "version": offer.file.version}),
    );
    if let Some(program) = install {
        if program.is_dir() {
            bail!("--install needs the program file to replace, not a folder");
        }
        updates::install(&staged, &program)?;
        cx.out.print(
            format!(
                "Installed {} as {}; restart it to use the new version.",
                offer.file.version,
                program.display()
            ),
            json!({"event": "installed", "path": program, "version": offer.file.version}),
        );
    }
    Ok(())
}
