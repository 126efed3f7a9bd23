//! One page of a list.

/// One page of a list, as the service answers it: how many items the whole list holds,
/// the URLs of the neighbouring pages, and this page's items. To walk every item without
/// handling pages, use the list builder's `into_stream()` (async) or `into_iter()`
/// (blocking).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// How many items the whole list holds.
    pub count: u64,
    /// The URL of the next page; `None` on the last.
    pub next: Option<String>,
    /// The URL of the previous page; `None` on the first.
    pub previous: Option<String>,
    /// This page's items.
    pub results: Vec<T>,
}

impl<T> Page<T> {
    pub(crate) fn new(
        count: i64,
        next: Option<String>,
        previous: Option<String>,
        results: Vec<T>,
    ) -> Self {
        Self {
            count: u64::try_from(count).unwrap_or(0),
            next,
            previous,
            results,
        }
    }

    /// Whether a next page exists.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.results.into_iter()
    }
}

/// Every list the API answers becomes a page of the SDK's own items.
macro_rules! page_from_wire {
    ($($list:ident => $item:ty),* $(,)?) => {$(
        impl super::FromWire<kelviq_gen::types::$list> for Page<$item> {
            fn from_wire(list: kelviq_gen::types::$list) -> Self {
                Page::new(
                    list.count,
                    list.next,
                    list.previous,
                    list.results.into_iter().map(super::FromWire::from_wire).collect(),
                )
            }
        }
    )*};
}

page_from_wire!(
    CustomerList => super::Customer,
    SubscriptionList => super::Subscription,
    RefundList => super::Refund,
    TransactionList => super::Transaction,
    PaymentMethodList => super::PaymentMethod,
);
