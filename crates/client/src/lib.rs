//! The Mocha client library: everything that talks to a Mocha server goes through here.
//!
//! - [`Trust`]: which certificate authorities to accept (the system's, plus extras
//!   such as a server's development CA). There is no "accept anything" mode.
//! - [`PassportClient`]: the Passport HTTPS API, one method per endpoint.
//! - [`ns::NsConnection`]: a Notification Server session over MENP/1.
//! - [`sb::SbConnection`]: a conversation on the Switchboard over MENP/1.
//! - [`menp::MenpConnection`]: the MENP/1 transport both are built on.

mod error;
pub mod menp;
mod menp_error;
pub mod ns;
mod passport;
pub mod sb;
mod trust;

pub use error::ClientError;
pub use menp_error::MenpError;
pub use mocha_api as api;
pub use mocha_proto as proto;
pub use passport::PassportClient;
pub use trust::Trust;
