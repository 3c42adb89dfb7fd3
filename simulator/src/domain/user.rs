//! Portal users: the people who sign in to the merchant's backoffice portal with a username and
//! password (Keycloak's password grant) and claim devices with the token they get (AUTH-01: "a
//! Keycloak access token obtained by user login"). The documented API says nothing more about
//! them; the fixtures' `[[users]]` list is the simulator's own.

use super::merchant::MerchantIdx;
use super::state::State;

/// The portal's own client: public (no secret), direct access grants only, as a Keycloak realm
/// would register a first-party web portal that signs users in with a password form. No merchant
/// API client may take its id.
pub(crate) const PORTAL_CLIENT_ID: &str = "viopay-portal";

/// A portal user of one merchant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct User {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) merchant: MerchantIdx,
    /// The Kustom merchant (`/ipp/v1`) the same person runs, if any: the portal's Kustom tab.
    pub(crate) kustom_merchant: Option<String>,
}

/// A username and password that match no user. Keycloak answers both cases the same way, so the
/// simulator does not say which one was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid user credentials")]
pub(crate) struct BadUserCredentials;

/// Constant-time comparison, so a wrong secret's timing says nothing about the right one.
pub(super) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl State {
    /// Usernames are unique and, as in Keycloak, compared without regard to case.
    pub(crate) fn add_user(&mut self, user: User) -> Result<(), super::ProvisionError> {
        if user.username.trim().is_empty() || user.password.is_empty() {
            return Err(super::ProvisionError::Empty(if user.password.is_empty() { "password" } else { "username" }));
        }
        if self.user(&user.username).is_some() {
            return Err(super::ProvisionError::DuplicateUser(user.username));
        }
        self.users.push(user);
        Ok(())
    }

    pub(crate) fn user(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub(crate) fn users(&self) -> impl Iterator<Item = &User> {
        self.users.iter()
    }

    /// The user these credentials are, password compared in constant time.
    pub(crate) fn authenticate_user(&self, username: &str, password: &str) -> Result<&User, BadUserCredentials> {
        let user = self.user(username).ok_or(BadUserCredentials)?;
        if same_secret(&user.password, password) { Ok(user) } else { Err(BadUserCredentials) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Merchant;

    #[test]
    fn users_are_unique_without_case_and_need_the_right_password() {
        let mut s = State::new();
        let m = s
            .add_merchant(Merchant { id: "m".into(), name: "M".into(), client_id: "c".into(), client_secret: "s".into() })
            .expect("merchant");
        s.add_user(User { username: "Owner@Shop".into(), password: "pw".into(), merchant: m, kustom_merchant: None }).expect("user");
        let dup = User { username: "owner@shop".into(), password: "x".into(), merchant: m, kustom_merchant: None };
        assert!(s.add_user(dup).is_err());
        assert_eq!(s.authenticate_user("OWNER@shop", "pw").map(|u| u.merchant), Ok(m));
        assert_eq!(s.authenticate_user("owner@shop", "pW"), Err(BadUserCredentials));
        assert_eq!(s.authenticate_user("nobody", "pw"), Err(BadUserCredentials));
        assert!(s.add_user(User { username: " ".into(), password: "pw".into(), merchant: m, kustom_merchant: None }).is_err());
    }
}
