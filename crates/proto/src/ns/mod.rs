//! Notification Server commands: sign-in, presence, contacts and switchboard referrals.

pub mod client;
pub mod push;
pub mod server;

pub use client::ClientCommand;
pub use server::ServerCommand;
