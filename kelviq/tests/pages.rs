//! Lists page by page: a page as a value, and every item as a lazy stream (async) or
//! iterator (blocking) that fetches a page only when the items before it are used up.

mod common;

use common::{Harness, API_KEY};
use futures_util::{StreamExt, TryStreamExt};
use kelviq_mock::MockServer;

fn list_requests(server: &MockServer) -> Vec<kelviq_mock::LoggedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("listCustomers"))
        .collect()
}

fn fill(h: &Harness, customers: usize) {
    h.run(async {
        for i in 0..customers {
            h.client
                .customers()
                .create(format!("customer-{i:03}"))
                .send()
                .await
                .unwrap();
        }
    });
    h.server.clear_requests();
}

#[test]
fn streaming_250_customers_at_20_a_page_takes_13_requests() {
    let h = Harness::new();
    fill(&h, 250);
    let customers: Vec<kelviq::model::Customer> = h
        .run(
            h.client
                .customers()
                .list()
                .page_size(20)
                .into_stream()
                .try_collect(),
        )
        .unwrap();
    let distinct: std::collections::BTreeSet<_> =
        customers.iter().map(|c| c.customer_id.clone()).collect();
    assert_eq!((customers.len(), distinct.len()), (250, 250));
    let requests = list_requests(&h.server);
    assert_eq!(requests.len(), 13, "13 pages, none past the last");
    assert_eq!(requests[12].query.as_deref(), Some("page=13&page_size=20"));
}

#[cfg(feature = "blocking")]
#[test]
fn iterating_250_customers_at_20_a_page_takes_13_requests_on_the_blocking_client() {
    let h = Harness::new();
    fill(&h, 250);
    let mut distinct = std::collections::BTreeSet::new();
    for customer in h.blocking.customers().list().page_size(20) {
        assert!(distinct.insert(customer.unwrap().customer_id));
    }
    assert_eq!(distinct.len(), 250);
    assert_eq!(list_requests(&h.server).len(), 13);
}

#[test]
fn a_stream_fetches_pages_only_as_they_are_read() {
    let h = Harness::new();
    fill(&h, 45);
    h.run(async {
        let stream = h.client.customers().list().page_size(20).into_stream();
        let mut stream = std::pin::pin!(stream);
        for _ in 0..20 {
            stream.next().await.unwrap().unwrap();
        }
        assert_eq!(
            list_requests(&h.server).len(),
            1,
            "the second page is not read yet"
        );
        stream.next().await.unwrap().unwrap();
        assert_eq!(list_requests(&h.server).len(), 2);
    });
}

#[tokio::test]
async fn one_page_says_how_many_there_are_and_where_the_next_is() {
    let (server, client) = common::start().await;
    for i in 0..3 {
        client
            .customers()
            .create(format!("c{i}"))
            .send()
            .await
            .unwrap();
    }
    let first = client.customers().list().page_size(2).send().await.unwrap();
    assert_eq!((first.count, first.results.len()), (3, 2));
    assert!(first.has_next() && first.previous.is_none());
    let second = client
        .customers()
        .list()
        .page(2)
        .page_size(2)
        .send()
        .await
        .unwrap();
    assert_eq!(second.results.len(), 1);
    assert!(!second.has_next());
    // Bad paging is refused before sending.
    let error = client
        .customers()
        .list()
        .page_size(500)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.validation().unwrap().field(), "page_size");
    let error = client.customers().list().page(0).send().await.unwrap_err();
    assert_eq!(error.validation().unwrap().field(), "page");
    let _ = (server, API_KEY);
}

#[tokio::test]
async fn an_error_ends_the_stream() {
    let (server, client) = common::start().await;
    for i in 0..3 {
        client
            .customers()
            .create(format!("c{i}"))
            .send()
            .await
            .unwrap();
    }
    server
        .inject(kelviq_mock::Fault::new(
            "listCustomers",
            10,
            kelviq_mock::FaultKind::status(400),
        ))
        .unwrap();
    let items: Vec<_> = client.customers().list().into_stream().collect().await;
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
}
