//! The request log: every API request with the answer it got, bounded so that an emulator
//! serving a long test run or a benchmark does not grow without end.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many entries a log keeps unless told otherwise.
pub const DEFAULT_LOG_CAPACITY: usize = 100_000;

/// A bounded log: past its capacity, the oldest entries go (and are counted).
#[derive(Debug, Clone)]
pub struct RequestLog<T = LoggedRequest> {
    entries: VecDeque<(u64, T)>,
    next: u64,
    dropped: u64,
    capacity: usize,
}

impl<T: Clone> RequestLog<T> {
    /// A log keeping the last `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            next: 0,
            dropped: 0,
            capacity: capacity.max(1),
        }
    }

    /// Appends an entry and returns its number.
    pub fn push(&mut self, entry: T) -> u64 {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        let seq = self.next;
        self.next += 1;
        self.entries.push_back((seq, entry));
        seq
    }

    /// The entry numbered `seq`, while it is kept.
    pub fn get_mut(&mut self, seq: u64) -> Option<&mut T> {
        let first = self.entries.front()?.0;
        let index = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.entries.get_mut(index).map(|(_, entry)| entry)
    }

    /// The entries kept, oldest first.
    pub fn to_vec(&self) -> Vec<T> {
        self.entries.iter().map(|(_, e)| e.clone()).collect()
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries went to make room.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many entries it keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// One API request as it arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path exactly as sent, percent-encoding included.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The request's headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON when it parsed, a string otherwise, null when empty.
    pub body: Value,
    /// The operation of the document this request is for, when it is one.
    pub operation: Option<String>,
    /// The answer the emulator gave, once given (none for a dropped connection).
    pub response: Option<LoggedResponse>,
}

/// A usage report the emulator applied to a meter, in the order applied: one entry per
/// `POST /api/v1/report/usage/` that changed the usage, also when an injected fault then
/// replaced or withheld its answer (`applyThenStatus`, `applyThenDrop`, `delayAnswer`), and
/// none for a request a fault answered without serving it.
///
/// With a unique value per report, this log proves what a client's queue did: whether a
/// report was applied twice, not at all, or after a later one of the same meter.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = kelviq_mock::MockServer::start().await.unwrap();
/// // … a client reports usage to `server.url()` …
/// for applied in server.applied_usage() {
///     println!("{} {} {} {}", applied.customer_id, applied.feature_id, applied.behaviour, applied.value);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedUsage {
    /// The customer.
    pub customer_id: String,
    /// The feature.
    pub feature_id: String,
    /// `SET` or `DELTA`.
    pub behaviour: String,
    /// The value reported.
    pub value: i64,
}

/// The answer to a logged request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedResponse {
    /// The status.
    pub status: u16,
    /// The body: JSON when it parsed, a string otherwise, null when empty.
    pub body: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entries_go_past_the_capacity() {
        let mut log = RequestLog::new(3);
        let seqs: Vec<u64> = (0..5).map(|i| log.push(i)).collect();
        assert_eq!(log.to_vec(), [2, 3, 4]);
        assert_eq!(log.dropped(), 2);
        assert!(log.get_mut(seqs[0]).is_none(), "gone");
        *log.get_mut(seqs[3]).unwrap() = 30;
        assert_eq!(log.to_vec(), [2, 30, 4]);
    }
}
