//! Partner organisations (the document's `partner` family): organisations provisioned by a
//! partner, kept per partner key (`X-Kelviq-Partner-Key`), so that one partner never sees
//! another's.
//!
//! Kelviq users are shared by every partner: an e-mail address provisioned by one partner is
//! refused with 409 to every other, and organisation slugs are unique across all of them.
//! The organisation's Server API Key works as an API key of the emulator at once (every
//! non-empty bearer key is a tenant).

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use kelviq_gen::partner::types as wire;
use serde_json::{json, Value};

use crate::error::ApiError;

/// The first user number handed out; the document's example is 4271.
const FIRST_USER_ID: i64 = 4271;

/// Every partner's organisations, and the users and slugs they took.
#[derive(Debug, Default)]
pub(crate) struct Partners {
    /// Each partner's organisations, oldest first, by partner key.
    organisations: HashMap<String, Vec<Organisation>>,
    /// The e-mail addresses of every Kelviq user made, lower-cased.
    emails: HashSet<String>,
    /// Every slug taken.
    slugs: HashSet<String>,
    /// The user number of the last user made.
    last_user_id: Option<i64>,
}

#[derive(Debug, Clone)]
struct Organisation {
    user_id: i64,
    identifier: uuid::Uuid,
    slug: String,
    client_key: String,
    server_key: String,
    external_id: String,
}

impl Organisation {
    /// As the document's `PartnerOrganization`.
    fn to_wire(&self) -> Value {
        json!({
            "userId": self.user_id,
            "organizationIdentifier": self.identifier,
            "organizationSlug": self.slug,
            "clientKey": self.client_key,
            "serverKey": self.server_key,
            "partnerExternalId": self.external_id,
        })
    }
}

impl Partners {
    /// `POST /api/v1/partner/organizations/`, for the partner of `partner_key`.
    pub(crate) fn provision(
        &mut self,
        partner_key: &str,
        request: wire::ProvisionPartnerOrganizationRequest,
    ) -> Result<Value, ApiError> {
        let external_id = request.external_id.to_string();
        let email = request.email.trim().to_owned();
        if !email_looks_valid(&email) {
            return Err(ApiError::field("email", "Enter a valid email address."));
        }
        let business_name = request.business_name.map(|n| n.to_string());
        let owned = self
            .organisations
            .entry(partner_key.to_owned())
            .or_default();
        if owned.iter().any(|o| o.external_id == external_id) {
            return Err(ApiError::field(
                "externalId",
                "An organization with this externalId already exists for this partner.",
            ));
        }
        if self.emails.contains(&email.to_lowercase()) {
            return Err(ApiError::status(
                StatusCode::CONFLICT,
                "An account with this email already exists.",
            ));
        }
        // The slug comes from the business name, else the external identifier (the document
        // says so for the emulator); one that slugifies to nothing becomes `organization`.
        let base = slugify(business_name.as_deref().unwrap_or(&external_id));
        let base = if base.is_empty() {
            "organization".to_owned()
        } else {
            base
        };
        let mut slug = base.clone();
        let mut n = 2;
        while self.slugs.contains(&slug) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        let user_id = self.last_user_id.map_or(FIRST_USER_ID, |id| id + 1);
        self.last_user_id = Some(user_id);
        self.emails.insert(email.to_lowercase());
        self.slugs.insert(slug.clone());
        let organisation = Organisation {
            user_id,
            identifier: uuid::Uuid::new_v4(),
            slug,
            client_key: format!("ck_mock_{}", uuid::Uuid::new_v4().simple()),
            server_key: format!("sk_mock_{}", uuid::Uuid::new_v4().simple()),
            external_id,
        };
        let answer = organisation.to_wire();
        owned.push(organisation);
        Ok(answer)
    }

    /// `GET /api/v1/partner/organizations/`: every organisation of the partner, oldest
    /// first, or only the one with `external_id` (an empty list when none has it). Not
    /// paged, as the document says.
    pub(crate) fn list(&self, partner_key: &str, external_id: Option<&str>) -> Value {
        let results: Vec<Value> = self
            .organisations
            .get(partner_key)
            .into_iter()
            .flatten()
            .filter(|o| external_id.is_none_or(|id| o.external_id == id))
            .map(Organisation::to_wire)
            .collect();
        json!({ "count": results.len(), "results": results })
    }

    /// `GET /api/v1/partner/organizations/{identifier}/`: 404 for another partner's.
    pub(crate) fn retrieve(&self, partner_key: &str, identifier: &str) -> Result<Value, ApiError> {
        let identifier = uuid::Uuid::parse_str(identifier)
            .map_err(|_| ApiError::field("identifier", "Must be a valid UUID."))?;
        self.organisations
            .get(partner_key)
            .into_iter()
            .flatten()
            .find(|o| o.identifier == identifier)
            .map(Organisation::to_wire)
            .ok_or_else(|| ApiError::not_found("Not found."))
    }

    /// `GET /api/v1/partner/organizations/by-external-id/{externalId}/`.
    pub(crate) fn retrieve_by_external_id(
        &self,
        partner_key: &str,
        external_id: &str,
    ) -> Result<Value, ApiError> {
        self.organisations
            .get(partner_key)
            .into_iter()
            .flatten()
            .find(|o| o.external_id == external_id)
            .map(Organisation::to_wire)
            .ok_or_else(|| ApiError::not_found("Not found."))
    }
}

/// `local@domain.tld`, roughly: what the service's e-mail field would refuse is refused.
fn email_looks_valid(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain.contains('.')
                && !email.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// Lower-case ASCII letters and digits, other runs of characters as one `-`.
fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_and_digits() {
        assert_eq!(slugify("Acme Corp"), "acme-corp");
        assert_eq!(slugify("  Été & Co. 2 "), "t-co-2");
        assert_eq!(slugify("!!!"), "");
    }
}
