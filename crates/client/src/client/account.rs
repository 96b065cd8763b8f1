//! The Passport side of a [`Client`]: contacts, privacy, alerts, the account itself and
//! moderation, each with a session token that is renewed before it expires.

use mocha_api::{
    ActivityAlert, Ban, BanRequest, Contact, ContactRequestCreated, ContactRequests, DataExport,
    PrivacySettings, RequestPolicy, ServiceNotice, UserId,
};
use time::OffsetDateTime;

use super::{Client, Error};

impl Client {
    /// Asks `username` to become a contact; if they had asked you, you are contacts at once.
    pub async fn request_contact(
        &self,
        username: &str,
        message: Option<&str>,
    ) -> Result<ContactRequestCreated, Error> {
        let token = self.session_token().await?;
        Ok(self.passport().request_contact(&token, username, message).await?)
    }

    pub async fn contact_requests(&self) -> Result<ContactRequests, Error> {
        let token = self.session_token().await?;
        Ok(self.passport().contact_requests(&token).await?)
    }

    pub async fn accept_request(&self, request_id: i64) -> Result<Contact, Error> {
        let token = self.session_token().await?;
        Ok(self.passport().accept_request(&token, request_id).await?)
    }

    pub async fn decline_request(&self, request_id: i64) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().decline_request(&token, request_id).await?)
    }

    pub async fn cancel_request(&self, request_id: i64) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().cancel_request(&token, request_id).await?)
    }

    /// Sets (or with `None` clears) your alias for a contact.
    pub async fn set_alias(&self, contact: UserId, alias: Option<&str>) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().set_alias(&token, contact, alias).await?)
    }

    /// Ends the contact, for both of you.
    pub async fn remove_contact(&self, contact: UserId) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().remove_contact(&token, contact).await?)
    }

    pub async fn block(&self, user: UserId) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().block(&token, user).await?)
    }

    pub async fn unblock(&self, user: UserId) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().unblock(&token, user).await?)
    }

    pub async fn privacy(&self) -> Result<PrivacySettings, Error> {
        let token = self.session_token().await?;
        Ok(self.passport().privacy(&token).await?)
    }

    pub async fn set_request_policy(&self, policy: RequestPolicy) -> Result<PrivacySettings, Error> {
        let token = self.session_token().await?;
        Ok(self.passport().set_request_policy(&token, policy).await?)
    }

    /// What arrived while you were away; the server deletes them as it answers.
    pub async fn poll_alerts(&self) -> Result<Vec<ActivityAlert>, Error> {
        let token = self.session_token().await?;
        Ok(self.passport().poll_alerts(&token).await?)
    }

    /// Everything stored about you.
    pub async fn export(&self) -> Result<DataExport, Error> {
        let token = self.session_token().await?;
        Ok(self.passport().export(&token).await?)
    }

    /// Deletes the account (the password confirms it). The server then ends the session.
    pub async fn delete_account(&self, password: &str) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().delete_account(&token, password).await?)
    }

    /// Administrators: bans a user, permanently unless `until` is given.
    pub async fn ban(
        &self,
        user: UserId,
        reason: Option<&str>,
        until: Option<OffsetDateTime>,
    ) -> Result<Ban, Error> {
        let token = self.session_token().await?;
        let request = BanRequest { user_id: user, reason: reason.map(str::to_string), until };
        Ok(self.passport().ban(&token, &request).await?)
    }

    pub async fn unban(&self, user: UserId) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().unban(&token, user).await?)
    }

    pub async fn set_admin(&self, user: UserId, is_admin: bool) -> Result<(), Error> {
        let token = self.session_token().await?;
        Ok(self.passport().set_admin(&token, user, is_admin).await?)
    }

    /// Administrators: a service notice for everyone online.
    pub async fn post_notice(&self, text: &str) -> Result<ServiceNotice, Error> {
        let token = self.session_token().await?;
        Ok(self.passport().post_notice(&token, text).await?)
    }
}
