//! File transfers inside one conversation: the sender offers (name, size, SHA-256),
//! the receiver accepts into a folder, chunks flow in order, and the receiver checks
//! the hash before it says `Complete`. A received file never replaces an existing
//! one, and a file that fails its check is deleted.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use mocha_api::UserId;
use mocha_proto::im::{FileCommand, FileControl, ImPayload};
use mocha_proto::{ErrorCode, ErrorReply};
use ring::digest::{Context, SHA256};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::Error;
use super::event::{FileOffer, TransferDirection, TransferEvent};

/// Chunks of 32 KiB: half the payload limit, small enough to interleave with chat.
pub(crate) const CHUNK: usize = 32 * 1024;
/// Progress is reported at least this often (in bytes), and at the end.
const PROGRESS_STEP: u64 = 256 * 1024;
/// Chunks remembered by transaction id, so a refusal can be traced to its transfer.
/// Refusals come back while a few MB at most are in flight: far fewer chunks than this.
const RECENT_CHUNKS: usize = 4096;

/// A file ready to offer: opened, measured and hashed by the caller's task.
pub(crate) struct PreparedFile {
    pub(crate) transfer_id: String,
    pub(crate) to: Option<UserId>,
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
    pub(crate) file: File,
}

impl PreparedFile {
    pub(crate) async fn open(path: &Path, to: Option<UserId>) -> Result<Self, Error> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Invalid(format!("{} has no file name", path.display())))?
            .to_string();
        let mut file = File::open(path).await.map_err(Error::file(path))?;
        let mut hasher = Context::new(&SHA256);
        let mut buffer = vec![0; 64 * 1024];
        let mut size = 0u64;
        loop {
            let read = file.read(&mut buffer).await.map_err(Error::file(path))?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            size += read as u64;
        }
        let file = File::open(path).await.map_err(Error::file(path))?;
        Ok(Self { transfer_id: new_id("t"), to, name, size, sha256: hex(hasher.finish().as_ref()), file })
    }

    pub(crate) fn offer(&self) -> ImPayload {
        ImPayload::File(FileControl {
            command: FileCommand::Offer,
            transfer_id: self.transfer_id.clone(),
            to: self.to.map(|u| u.to_string()),
            name: Some(self.name.clone()),
            size: Some(self.size),
            sha256: Some(self.sha256.clone()),
        })
    }
}

struct Outgoing {
    file: PreparedFile,
    peer: Option<UserId>,
    accepted: bool,
    sent: u64,
    reported: u64,
}

struct Receiving {
    file: File,
    path: PathBuf,
    hasher: Context,
    received: u64,
    reported: u64,
}

struct Incoming {
    from: UserId,
    offer: FileOffer,
    receiving: Option<Receiving>,
}

/// What the conversation task must do after a transfer step.
pub(crate) enum Action {
    Nothing,
    Report(TransferEvent),
    /// Send this control message, then report.
    Reply(ImPayload, TransferEvent),
}

#[derive(Default)]
pub(crate) struct Transfers {
    outgoing: HashMap<String, Outgoing>,
    incoming: HashMap<String, Incoming>,
    /// `(transaction id, transfer id)` of the chunks sent last, oldest first.
    recent_chunks: VecDeque<(u32, String)>,
}

pub(crate) fn control(command: FileCommand, transfer_id: &str) -> ImPayload {
    ImPayload::File(FileControl {
        command,
        transfer_id: transfer_id.to_string(),
        to: None,
        name: None,
        size: None,
        sha256: None,
    })
}

impl Transfers {
    pub(crate) fn offered(&mut self, file: PreparedFile) {
        let peer = file.to;
        self.outgoing
            .insert(file.transfer_id.clone(), Outgoing { file, peer, accepted: false, sent: 0, reported: 0 });
    }

    /// An offer the server relayed to us.
    pub(crate) fn offer_received(&mut self, from: UserId, control: &FileControl) -> Option<FileOffer> {
        let offer = FileOffer {
            transfer_id: control.transfer_id.clone(),
            name: control.name.clone()?,
            size: control.size?,
            sha256: control.sha256.clone()?,
        };
        self.incoming
            .insert(offer.transfer_id.clone(), Incoming { from, offer: offer.clone(), receiving: None });
        Some(offer)
    }

    /// Creates the file in `folder` under a name no existing file has.
    pub(crate) async fn accept(&mut self, transfer_id: &str, folder: &Path) -> Result<PathBuf, Error> {
        let incoming = self
            .incoming
            .get_mut(transfer_id)
            .filter(|i| i.receiving.is_none())
            .ok_or_else(|| Error::UnknownTransfer(transfer_id.to_string()))?;
        let (file, path) = create_unique(folder, &incoming.offer.name).await?;
        incoming.receiving = Some(Receiving {
            file,
            path: path.clone(),
            hasher: Context::new(&SHA256),
            received: 0,
            reported: 0,
        });
        Ok(path)
    }

    pub(crate) fn decline(&mut self, transfer_id: &str) -> Result<(), Error> {
        self.incoming
            .remove(transfer_id)
            .map(drop)
            .ok_or_else(|| Error::UnknownTransfer(transfer_id.to_string()))
    }

    /// Our own cancel, of either direction.
    pub(crate) async fn cancel(&mut self, transfer_id: &str) -> Result<(), Error> {
        if self.outgoing.remove(transfer_id).is_some() {
            return Ok(());
        }
        match self.incoming.remove(transfer_id) {
            Some(incoming) => {
                discard(incoming).await;
                Ok(())
            }
            None => Err(Error::UnknownTransfer(transfer_id.to_string())),
        }
    }

    /// Control messages from the other side about a transfer we know.
    pub(crate) async fn control_received(&mut self, from: UserId, control: &FileControl) -> Action {
        let id = control.transfer_id.clone();
        match control.command {
            FileCommand::Offer => Action::Nothing,
            FileCommand::Accept => match self.outgoing.get_mut(&id) {
                Some(out) => {
                    out.accepted = true;
                    out.peer = Some(from);
                    Action::Report(TransferEvent::Accepted { transfer_id: id })
                }
                None => Action::Nothing,
            },
            FileCommand::Decline => match self.outgoing.remove(&id) {
                Some(_) => Action::Report(TransferEvent::Declined { transfer_id: id }),
                None => Action::Nothing,
            },
            FileCommand::Cancel => {
                if self.outgoing.remove(&id).is_some() {
                    return Action::Report(TransferEvent::Cancelled { transfer_id: id });
                }
                match self.incoming.remove(&id) {
                    Some(incoming) => {
                        discard(incoming).await;
                        Action::Report(TransferEvent::Cancelled { transfer_id: id })
                    }
                    None => Action::Nothing,
                }
            }
            FileCommand::Complete => match self.outgoing.remove(&id) {
                Some(out) => Action::Report(TransferEvent::Completed {
                    transfer_id: id,
                    direction: TransferDirection::Sending,
                    path: None,
                    sha256: out.file.sha256,
                }),
                None => Action::Nothing,
            },
        }
    }

    /// Whether an accepted transfer has bytes left to send.
    pub(crate) fn has_chunk_to_send(&self) -> bool {
        self.outgoing.values().any(|o| o.accepted && o.sent < o.file.size)
    }

    /// Reads the next chunk of some accepted transfer: `(transfer id, offset, bytes, progress)`.
    pub(crate) async fn next_chunk(
        &mut self,
    ) -> Option<Result<(String, u64, Vec<u8>, Option<TransferEvent>), (String, Error)>> {
        let out = self.outgoing.values_mut().find(|o| o.accepted && o.sent < o.file.size)?;
        let id = out.file.transfer_id.clone();
        let want = CHUNK.min((out.file.size - out.sent) as usize);
        let mut buffer = vec![0; want];
        let read = match out.file.file.read(&mut buffer).await {
            Ok(0) => Err(Error::Invalid(format!("{} got shorter while being sent", out.file.name))),
            Ok(read) => Ok(read),
            Err(e) => Err(Error::File { path: PathBuf::from(&out.file.name), source: e }),
        };
        let read = match read {
            Ok(read) => read,
            Err(error) => {
                self.outgoing.remove(&id);
                return Some(Err((id, error)));
            }
        };
        buffer.truncate(read);
        let offset = out.sent;
        out.sent += read as u64;
        let progress = (out.sent - out.reported >= PROGRESS_STEP || out.sent == out.file.size).then(|| {
            out.reported = out.sent;
            TransferEvent::Progress {
                transfer_id: id.clone(),
                direction: TransferDirection::Sending,
                done: out.sent,
                total: out.file.size,
            }
        });
        Some(Ok((id, offset, buffer, progress)))
    }

    /// Remembers which transfer the chunk sent as `trid` belongs to.
    pub(crate) fn chunk_sent(&mut self, trid: u32, transfer_id: &str) {
        if self.recent_chunks.len() == RECENT_CHUNKS {
            self.recent_chunks.pop_front();
        }
        self.recent_chunks.push_back((trid, transfer_id.to_string()));
    }

    /// The server refused the request `reply.trid`. If it was a chunk, its transfer has
    /// failed (the server has forgotten it or will take no more of it) and the refusal
    /// becomes the transfer's `Failed` (`Action::Nothing` for later chunks of a transfer
    /// already failed, refused in turn). Any other refusal is given back as `Err`.
    pub(crate) fn refused(&mut self, reply: ErrorReply) -> Result<Action, ErrorReply> {
        let Some(at) = self.recent_chunks.iter().position(|(trid, _)| *trid == reply.trid) else {
            return Err(reply);
        };
        let id = self.recent_chunks.remove(at).map(|(_, id)| id).unwrap_or_default();
        if self.outgoing.remove(&id).is_none() {
            return Ok(Action::Nothing);
        }
        let failed = TransferEvent::Failed {
            transfer_id: id.clone(),
            direction: TransferDirection::Sending,
            reason: reply.reason,
        };
        // A receiver too slow to keep up has been told by the server already.
        Ok(if reply.code == ErrorCode::QueueOverflow {
            Action::Report(failed)
        } else {
            Action::Reply(control(FileCommand::Cancel, &id), failed)
        })
    }

    /// A chunk from the sender: written, hashed, and at the end verified.
    pub(crate) async fn chunk_received(
        &mut self,
        from: UserId,
        id: &str,
        offset: u64,
        data: &[u8],
    ) -> Action {
        let Some(incoming) = self.incoming.get_mut(id).filter(|i| i.from == from) else {
            return Action::Nothing;
        };
        let size = incoming.offer.size;
        let Some(receiving) = incoming.receiving.as_mut() else { return Action::Nothing };
        let failure = if offset != receiving.received {
            Some(format!("chunk at {offset}, expected {}", receiving.received))
        } else if receiving.received + data.len() as u64 > size {
            Some("more data than offered".to_string())
        } else if let Err(e) = receiving.file.write_all(data).await {
            Some(format!("cannot write {}: {e}", receiving.path.display()))
        } else {
            None
        };
        if let Some(reason) = failure {
            return self.fail_incoming(id, reason).await;
        }
        receiving.hasher.update(data);
        receiving.received += data.len() as u64;
        if receiving.received < size {
            if receiving.received - receiving.reported < PROGRESS_STEP {
                return Action::Nothing;
            }
            receiving.reported = receiving.received;
            return Action::Report(TransferEvent::Progress {
                transfer_id: id.to_string(),
                direction: TransferDirection::Receiving,
                done: receiving.received,
                total: size,
            });
        }
        self.finish_incoming(id).await
    }

    /// Accepting an empty file completes it at once.
    pub(crate) async fn finish_if_empty(&mut self, id: &str) -> Action {
        match self.incoming.get(id) {
            Some(incoming) if incoming.offer.size == 0 => self.finish_incoming(id).await,
            _ => Action::Nothing,
        }
    }

    async fn finish_incoming(&mut self, id: &str) -> Action {
        let Some(mut incoming) = self.incoming.remove(id) else { return Action::Nothing };
        let Some(mut receiving) = incoming.receiving.take() else { return Action::Nothing };
        let flushed = receiving.file.flush().await.and(receiving.file.sync_all().await);
        let actual = hex(receiving.hasher.finish().as_ref());
        let reason = match flushed {
            Err(e) => format!("cannot write {}: {e}", receiving.path.display()),
            Ok(()) if actual == incoming.offer.sha256 => {
                return Action::Reply(
                    control(FileCommand::Complete, id),
                    TransferEvent::Completed {
                        transfer_id: id.to_string(),
                        direction: TransferDirection::Receiving,
                        path: Some(receiving.path),
                        sha256: actual,
                    },
                );
            }
            Ok(()) => format!("SHA-256 mismatch: offered {}, received {actual}", incoming.offer.sha256),
        };
        let _ = tokio::fs::remove_file(&receiving.path).await;
        failed(id, reason)
    }

    async fn fail_incoming(&mut self, id: &str, reason: String) -> Action {
        if let Some(incoming) = self.incoming.remove(id) {
            discard(incoming).await;
        }
        failed(id, reason)
    }

    /// Someone left: their transfers with us are over.
    pub(crate) async fn peer_left(&mut self, user: UserId) -> Vec<TransferEvent> {
        let mut events = Vec::new();
        let gone: Vec<String> =
            self.outgoing.iter().filter(|(_, o)| o.peer == Some(user)).map(|(id, _)| id.clone()).collect();
        for id in gone {
            self.outgoing.remove(&id);
            events.push(TransferEvent::Failed {
                transfer_id: id,
                direction: TransferDirection::Sending,
                reason: "the receiver left".into(),
            });
        }
        let gone: Vec<String> =
            self.incoming.iter().filter(|(_, i)| i.from == user).map(|(id, _)| id.clone()).collect();
        for id in gone {
            if let Some(incoming) = self.incoming.remove(&id) {
                discard(incoming).await;
            }
            events.push(TransferEvent::Failed {
                transfer_id: id,
                direction: TransferDirection::Receiving,
                reason: "the sender left".into(),
            });
        }
        events
    }

    /// The conversation ended: partial files go.
    pub(crate) async fn abandon(&mut self) {
        for (_, incoming) in self.incoming.drain() {
            discard(incoming).await;
        }
        self.outgoing.clear();
    }
}

fn failed(id: &str, reason: String) -> Action {
    Action::Reply(
        control(FileCommand::Cancel, id),
        TransferEvent::Failed {
            transfer_id: id.to_string(),
            direction: TransferDirection::Receiving,
            reason,
        },
    )
}

/// Removes the partial file of an unfinished incoming transfer.
async fn discard(incoming: Incoming) {
    if let Some(receiving) = incoming.receiving {
        drop(receiving.file);
        let _ = tokio::fs::remove_file(&receiving.path).await;
    }
}

/// Only the last component of an offered name, with nothing a file system would
/// treat specially: a sender cannot make us write outside the folder.
pub(crate) fn safe_name(offered: &str) -> String {
    let last = offered.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String =
        last.chars().map(|c| if c.is_control() || "<>:\"|?*".contains(c) { '_' } else { c }).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() { "received-file".to_string() } else { cleaned }
}

/// `name`, else `name (1)`, `name (2)`, … — created atomically, so an existing file
/// (or one appearing meanwhile) is never overwritten.
pub(crate) async fn create_unique(folder: &Path, offered: &str) -> Result<(File, PathBuf), Error> {
    let name = safe_name(offered);
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_string(), format!(".{ext}")),
        _ => (name.clone(), String::new()),
    };
    for n in 0..10_000u32 {
        let candidate = if n == 0 { name.clone() } else { format!("{stem} ({n}){extension}") };
        let path = folder.join(candidate);
        match tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::File { path, source: e }),
        }
    }
    Err(Error::Invalid(format!("no free name for {name} in {}", folder.display())))
}

pub(crate) fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    // The system RNG failing is not something a chat client can recover from sensibly;
    // a time-based id still keeps transfers apart within one conversation.
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        bytes = (nanos.as_nanos() as u64).to_le_bytes();
    }
    format!("{prefix}-{}", hex(&bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a file, as hex (for checking a received file).
pub async fn sha256_file(path: &Path) -> Result<String, Error> {
    Ok(PreparedFile::open(path, None).await?.sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_names_cannot_escape_the_folder() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\Windows\\evil.dll"), "evil.dll");
        assert_eq!(safe_name(".."), "received-file");
        assert_eq!(safe_name(".bashrc"), "bashrc");
        assert_eq!(safe_name("a\u{7}b?.txt"), "a_b_.txt");
        assert_eq!(safe_name("holiday photo.jpg"), "holiday photo.jpg");
    }

    #[tokio::test]
    async fn existing_files_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let (_, first) = create_unique(dir.path(), "notes.txt").await.unwrap();
        let (_, second) = create_unique(dir.path(), "notes.txt").await.unwrap();
        assert_eq!(first, dir.path().join("notes (1).txt"));
        assert_eq!(second, dir.path().join("notes (2).txt"));
        assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "mine");
    }
}
