//! Customers: created with the identifier the caller chose, updated in part, listed newest
//! first, archived (then gone from the list and from reads).

use std::collections::HashMap;

use kelviq_gen::types as wire;
use serde_json::{json, Map, Value};

use super::{now, page_of, Tenant};
use crate::error::ApiError;

#[derive(Debug, Default)]
pub(super) struct Customers {
    records: HashMap<String, Record>,
    created: u64,
}

#[derive(Debug, Clone)]
struct Record {
    customer: wire::Customer,
    /// For the list's order: newest first.
    created: u64,
    archived: bool,
}

impl Customers {
    /// The live (not archived) customer.
    pub(super) fn get(&self, customer_id: &str) -> Option<&wire::Customer> {
        self.records
            .get(customer_id)
            .filter(|r| !r.archived)
            .map(|r| &r.customer)
    }

    pub(super) fn require(&self, customer_id: &str) -> Result<&wire::Customer, ApiError> {
        self.get(customer_id).ok_or_else(|| {
            ApiError::not_found(format!("No customer with customer_id {customer_id:?}."))
        })
    }

    /// Makes a bare customer if there is none (a checkout or a grant for a new one).
    pub(super) fn ensure(&mut self, customer_id: &str) -> bool {
        if self.get(customer_id).is_some() {
            return false;
        }
        let at = now();
        self.created += 1;
        self.records.insert(
            customer_id.to_owned(),
            Record {
                customer: wire::Customer {
                    id: uuid::Uuid::new_v4(),
                    customer_id: customer_id.to_owned(),
                    name: None,
                    email: None,
                    details: Map::new(),
                    metadata: Some(HashMap::new()),
                    billing_address: None,
                    created_on: at,
                    modified_on: at,
                },
                created: self.created,
                archived: false,
            },
        );
        true
    }
}

impl Tenant {
    /// `POST /api/v1/customers/`
    pub fn create_customer(
        &mut self,
        request: wire::CreateCustomerRequest,
    ) -> Result<wire::Customer, ApiError> {
        let customer_id = request.customer_id.to_string();
        if self.customers.records.contains_key(&customer_id) {
            return Err(ApiError::field(
                "customer_id",
                "A customer with this customer_id already exists.",
            ));
        }
        if let Some(email) = &request.email {
            check_email(email)?;
        }
        self.customers.ensure(&customer_id);
        let record = self
            .customers
            .records
            .get_mut(&customer_id)
            .expect("just made");
        record.customer.name = request.name;
        record.customer.email = request.email;
        record.customer.metadata = Some(request.metadata.map(|m| m.0).unwrap_or_default());
        record.customer.billing_address = request.billing_address;
        let customer = record.customer.clone();
        let object = self.hook_customer_record(&customer_id);
        self.emit("customer.created", object, None);
        Ok(customer)
    }

    /// `PATCH /api/v1/customers/{customerId}/`
    pub fn update_customer(
        &mut self,
        customer_id: &str,
        request: wire::UpdateCustomerRequest,
    ) -> Result<wire::Customer, ApiError> {
        if request.name.is_none()
            && request.email.is_none()
            && request.metadata.is_none()
            && request.billing_address.is_none()
        {
            return Err(ApiError::field(
                "body",
                "At least one of name, email, metadata or billingAddress is required.",
            ));
        }
        if let Some(email) = &request.email {
            check_email(email)?;
        }
        self.customers.require(customer_id)?;
        let before = self.hook_customer_record(customer_id);
        let record = self
            .customers
            .records
            .get_mut(customer_id)
            .expect("just checked");
        let customer = &mut record.customer;
        if let Some(name) = request.name {
            customer.name = Some(name);
        }
        if let Some(email) = request.email {
            customer.email = Some(email);
        }
        if let Some(metadata) = request.metadata {
            customer.metadata = Some(metadata.0);
        }
        if let Some(address) = request.billing_address {
            customer.billing_address = Some(address);
        }
        customer.modified_on = now().max(customer.modified_on + chrono::Duration::microseconds(1));
        let customer = customer.clone();
        let after = self.hook_customer_record(customer_id);
        let previous = super::payments::changed(&before, &after);
        self.emit("customer.updated", after, Some(previous));
        Ok(customer)
    }

    /// `GET /api/v1/customers/{customerId}/`
    pub fn retrieve_customer(&self, customer_id: &str) -> Result<wire::Customer, ApiError> {
        self.customers.require(customer_id).cloned()
    }

    /// `DELETE /api/v1/customers/{customerId}/`
    pub fn archive_customer(
        &mut self,
        customer_id: &str,
    ) -> Result<wire::CustomerArchived, ApiError> {
        self.customers.require(customer_id)?;
        if let Some(record) = self.customers.records.get_mut(customer_id) {
            record.archived = true;
        }
        Ok(wire::CustomerArchived {
            message: "Customer archived successfully.".into(),
        })
    }

    /// `GET /api/v1/customers/`: newest first, paged.
    pub fn list_customers(
        &self,
        search: Option<&str>,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let mut records: Vec<&Record> = self
            .customers
            .records
            .values()
            .filter(|r| !r.archived)
            .filter(|r| {
                search.is_none_or(|text| {
                    let c = &r.customer;
                    c.customer_id.contains(text)
                        || c.name.as_deref().is_some_and(|n| n.contains(text))
                        || c.email.as_deref().is_some_and(|e| e.contains(text))
                })
            })
            .collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.created));
        let items = records.into_iter().map(|r| json!(r.customer)).collect();
        page_of(items, page, page_size, base)
    }

    /// `POST /api/v1/portal/session/`: the customer must exist and have an e-mail address.
    pub fn create_portal_session(
        &self,
        request: wire::CreatePortalSessionRequest,
        base_url: &str,
    ) -> Result<wire::PortalSession, ApiError> {
        let customer_id = request.customer_id.to_string();
        let customer = self
            .customers
            .get(&customer_id)
            .ok_or_else(|| ApiError::field("customerId", "Invalid customer id"))?;
        let email = customer
            .email
            .clone()
            .ok_or_else(|| ApiError::field("customerId", "Customer does not have an email"))?;
        Ok(wire::PortalSession {
            token: format!("cpt-{}:{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4()),
            email,
            customer_portal_url: format!("{base_url}/_mock/portal/"),
        })
    }
}

pub(super) fn check_email(email: &str) -> Result<(), ApiError> {
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(ApiError::field("email", "Enter a valid email address."))
    }
}
