//! The Passport HTTPS API, one method per endpoint. Methods that act for a user
//! take their session token.

use std::time::Duration;

use mocha_api::*;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::monitor::{Channel, Direction, ProtocolMonitor};
use crate::network::Network;
use crate::{ClientError, Trust};

#[derive(Clone)]
pub struct PassportClient {
    http: reqwest::Client,
    base: String,
    monitor: Option<ProtocolMonitor>,
}

impl PassportClient {
    /// `base_url` is the server's HTTPS root, like `https://localhost:8443`.
    pub fn new(base_url: &str, trust: &Trust) -> Result<Self, ClientError> {
        Self::with_network(base_url, &Network::new(trust.clone()))
    }

    /// Like [`Self::new`], through `network`'s proxy, recording request lines (never
    /// bodies) in its protocol monitor.
    pub fn with_network(base_url: &str, network: &Network) -> Result<Self, ClientError> {
        let tls = (*network.trust.client_config()?).clone();
        let mut builder = reqwest::Client::builder();
        builder = match &network.proxy {
            Some(proxy) => {
                builder.proxy(proxy.to_reqwest().map_err(|e| ClientError::Transport(e.to_string()))?)
            }
            None => builder.no_proxy(),
        };
        let http = builder
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("mocha-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Trust(e.to_string()))?;
        Ok(Self {
            http,
            base: format!("{}/api/v1", base_url.trim_end_matches('/')),
            monitor: network.monitor.clone(),
        })
    }

    /// The server's HTTPS root this client talks to.
    pub fn base_url(&self) -> &str {
        self.base.trim_end_matches("/api/v1")
    }

    /// Sends a request and decodes the answer, or the error envelope into [`ClientError::Api`].
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&(dyn erased::Body + Sync)>,
    ) -> Result<T, ClientError> {
        let response = self.send(method, path, token, body).await?;
        let text = response.bytes().await?;
        let text = if text.is_empty() { &b"null"[..] } else { &text[..] };
        serde_json::from_slice(text).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&(dyn erased::Body + Sync)>,
    ) -> Result<reqwest::Response, ClientError> {
        if let Some(monitor) = &self.monitor {
            monitor.record_line(Direction::Sent, Channel::Passport, &format!("{method} /api/v1{path}"));
        }
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_json());
        }
        let response = request.send().await?;
        let status = response.status();
        if let Some(monitor) = &self.monitor {
            monitor.record_line(Direction::Received, Channel::Passport, &format!("HTTP {}", status.as_u16()));
        }
        if status.is_success() {
            return Ok(response);
        }
        let bytes = response.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(ClientError::Api { status: status.as_u16(), error: body.error }),
            Err(_) => Err(ClientError::Protocol(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes).chars().take(200).collect::<String>()
            ))),
        }
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&(dyn erased::Body + Sync)>,
    ) -> Result<(), ClientError> {
        let response = self.send(method, path, token, body).await?;
        match response.status() {
            StatusCode::NO_CONTENT | StatusCode::OK | StatusCode::CREATED => Ok(()),
            other => Err(ClientError::Protocol(format!("unexpected HTTP {other}"))),
        }
    }

    pub async fn register(
        &self,
        username: &str,
        display_name: &str,
        password: &str,
    ) -> Result<Account, ClientError> {
        let body = RegisterRequest {
            username: username.to_string(),
            display_name: display_name.to_string(),
            password: password.to_string(),
        };
        self.call(Method::POST, "/accounts", None, Some(&body)).await
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> Result<SessionTokens, ClientError> {
        let body = SignInRequest { username: username.to_string(), password: password.to_string() };
        self.call(Method::POST, "/sessions", None, Some(&body)).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<SessionTokens, ClientError> {
        let body = RefreshTokenRequest { refresh_token: refresh_token.to_string() };
        self.call(Method::POST, "/sessions/refresh", None, Some(&body)).await
    }

    /// Signs out the sign-in this refresh token belongs to.
    pub async fn sign_out(&self, refresh_token: &str) -> Result<(), ClientError> {
        let body = RefreshTokenRequest { refresh_token: refresh_token.to_string() };
        self.call_empty(Method::POST, "/sessions/revoke", None, Some(&body)).await
    }

    pub async fn me(&self, token: &str) -> Result<Account, ClientError> {
        self.call(Method::GET, "/me", Some(token), None).await
    }

    pub async fn set_display_name(&self, token: &str, display_name: &str) -> Result<Account, ClientError> {
        let body = UpdateProfileRequest { display_name: Some(display_name.to_string()) };
        self.call(Method::PATCH, "/me", Some(token), Some(&body)).await
    }

    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Result<(), ClientError> {
        let body =
            ChangePasswordRequest { current_password: current.to_string(), new_password: new.to_string() };
        self.call_empty(Method::PUT, "/me/password", Some(token), Some(&body)).await
    }

    pub async fn delete_account(&self, token: &str, password: &str) -> Result<(), ClientError> {
        let body = PasswordConfirmation { password: password.to_string() };
        self.call_empty(Method::DELETE, "/me", Some(token), Some(&body)).await
    }

    pub async fn export(&self, token: &str) -> Result<DataExport, ClientError> {
        self.call(Method::GET, "/me/export", Some(token), None).await
    }

    pub async fn sign_ins(&self, token: &str) -> Result<Vec<SignIn>, ClientError> {
        self.call(Method::GET, "/me/sign-ins", Some(token), None).await
    }

    pub async fn revoke_sign_in(&self, token: &str, sign_in_id: &str) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &format!("/me/sign-ins/{sign_in_id}"), Some(token), None).await
    }

    pub async fn contacts(&self, token: &str) -> Result<Vec<Contact>, ClientError> {
        self.call(Method::GET, "/contacts", Some(token), None).await
    }

    pub async fn set_alias(
        &self,
        token: &str,
        contact: UserId,
        alias: Option<&str>,
    ) -> Result<(), ClientError> {
        let body = SetAliasRequest { alias: alias.map(str::to_string) };
        self.call_empty(Method::PUT, &format!("/contacts/{contact}/alias"), Some(token), Some(&body)).await
    }

    pub async fn remove_contact(&self, token: &str, contact: UserId) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &format!("/contacts/{contact}"), Some(token), None).await
    }

    pub async fn contact_requests(&self, token: &str) -> Result<ContactRequests, ClientError> {
        self.call(Method::GET, "/contact-requests", Some(token), None).await
    }

    pub async fn request_contact(
        &self,
        token: &str,
        username: &str,
        message: Option<&str>,
    ) -> Result<ContactRequestCreated, ClientError> {
        let body = NewContactRequest {
            username: Some(username.to_string()),
            user_id: None,
            message: message.map(str::to_string),
        };
        self.call(Method::POST, "/contact-requests", Some(token), Some(&body)).await
    }

    pub async fn accept_request(&self, token: &str, request_id: i64) -> Result<Contact, ClientError> {
        self.call(Method::POST, &format!("/contact-requests/{request_id}/accept"), Some(token), None).await
    }

    pub async fn decline_request(&self, token: &str, request_id: i64) -> Result<(), ClientError> {
        self.call_empty(Method::POST, &format!("/contact-requests/{request_id}/decline"), Some(token), None)
            .await
    }

    pub async fn cancel_request(&self, token: &str, request_id: i64) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &format!("/contact-requests/{request_id}"), Some(token), None).await
    }

    pub async fn blocks(&self, token: &str) -> Result<Vec<BlockedUser>, ClientError> {
        self.call(Method::GET, "/blocks", Some(token), None).await
    }

    pub async fn block(&self, token: &str, user: UserId) -> Result<(), ClientError> {
        self.call_empty(Method::PUT, &format!("/blocks/{user}"), Some(token), None).await
    }

    pub async fn unblock(&self, token: &str, user: UserId) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &format!("/blocks/{user}"), Some(token), None).await
    }

    pub async fn privacy(&self, token: &str) -> Result<PrivacySettings, ClientError> {
        self.call(Method::GET, "/privacy", Some(token), None).await
    }

    pub async fn set_request_policy(
        &self,
        token: &str,
        policy: RequestPolicy,
    ) -> Result<PrivacySettings, ClientError> {
        let body = UpdatePrivacyRequest { contact_requests: policy };
        self.call(Method::PUT, "/privacy", Some(token), Some(&body)).await
    }

    /// Returns the waiting activity alerts; the server deletes them as it answers.
    pub async fn poll_alerts(&self, token: &str) -> Result<Vec<ActivityAlert>, ClientError> {
        self.call(Method::GET, "/alerts", Some(token), None).await
    }

    pub async fn ban(&self, token: &str, request: &BanRequest) -> Result<Ban, ClientError> {
        self.call(Method::POST, "/admin/bans", Some(token), Some(request)).await
    }

    pub async fn unban(&self, token: &str, user: UserId) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &format!("/admin/bans/{user}"), Some(token), None).await
    }

    pub async fn set_admin(&self, token: &str, user: UserId, is_admin: bool) -> Result<(), ClientError> {
        let method = if is_admin { Method::PUT } else { Method::DELETE };
        self.call_empty(method, &format!("/admin/admins/{user}"), Some(token), None).await
    }

    pub async fn find_users(&self, token: &str, query: &str) -> Result<Vec<ModeratedAccount>, ClientError> {
        self.call(Method::GET, &format!("/admin/users?q={}", escape(query)), Some(token), None).await
    }

    pub async fn post_notice(&self, token: &str, text: &str) -> Result<ServiceNotice, ClientError> {
        let body = NoticeRequest { text: text.to_string() };
        self.call(Method::POST, "/admin/notices", Some(token), Some(&body)).await
    }

    pub async fn status(&self) -> Result<StatusReport, ClientError> {
        self.call(Method::GET, "/status", None, None).await
    }

    pub async fn check_for_update(&self, channel: &str, version: &str) -> Result<UpdateCheck, ClientError> {
        let path = format!("/updates?channel={}&version={}", escape(channel), escape(version));
        self.call(Method::GET, &path, None, None).await
    }

    /// The update check for one platform: the answer carries that platform's file
    /// (size, SHA-256, signature) and the server's release key.
    pub async fn check_for_update_on(
        &self,
        channel: &str,
        version: &str,
        platform: &str,
    ) -> Result<UpdateCheck, ClientError> {
        let path = format!(
            "/updates?channel={}&version={}&platform={}",
            escape(channel),
            escape(version),
            escape(platform)
        );
        self.call(Method::GET, &path, None, None).await
    }

    /// Starts downloading `path` (a `/download/…` path on this server, never another
    /// host), allowing it `timeout` in all.
    pub async fn download(&self, path: &str, timeout: Duration) -> Result<reqwest::Response, ClientError> {
        if !path.starts_with("/download/") {
            return Err(ClientError::Protocol(format!("{path:?} is not a download on this server")));
        }
        if let Some(monitor) = &self.monitor {
            monitor.record_line(Direction::Sent, Channel::Passport, &format!("GET {path}"));
        }
        Ok(self.http.get(format!("{}{path}", self.base_url())).timeout(timeout).send().await?)
    }
}

/// Percent-encodes every byte of a query value.
fn escape(value: &str) -> String {
    value.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Lets request bodies of different types share one code path without generics bloat.
mod erased {
    pub trait Body {
        fn to_json(&self) -> Vec<u8>;
    }

    impl<T: super::Serialize> Body for T {
        fn to_json(&self) -> Vec<u8> {
            serde_json::to_vec(self).expect("request bodies always serialize")
        }
    }
}
