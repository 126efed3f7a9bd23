//! The durable report store: the offline queue's reports kept in a file, so that a process
//! that dies or is redeployed with reports queued loses none of them. The next client that
//! opens the same file delivers them.
//!
//! The file is a [`redb`] database, chosen over SQLite (`rusqlite`) by a measured comparison
//! (see the README): the same cost for a durable commit (the `fsync` dominates both), a
//! lower and steadier one without it, and pure Rust, so no C compiler in the build.
//!
//! One thread owns the database and commits in groups: it takes every change waiting when
//! it wakes, writes them in one transaction, and syncs once. A report is answered `Queued`
//! only after the commit that holds it, and reaches the in-memory queue in the same step,
//! so that a caller who stops waiting cannot split the two. Many reports queued at once cost
//! one `fsync` between them, not one each.
//!
//! A usage report that counts twice when sent twice (a `DELTA`) is marked *sending* in the
//! file before it is sent. Should the process die before its answer is recorded, the next
//! process finds the mark and takes the report out as unconfirmed (logged at error level)
//! instead of sending it a second time: the same rule as a `DELTA` whose answer never came.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

use crate::error::{Error, Result};
use crate::queue::Report;

/// Report number -> [`Record`] as JSON.
const REPORTS: TableDefinition<u64, &[u8]> = TableDefinition::new("reports");
/// What the file says about itself: `instance`, the name every process on it reports under,
/// and `lanes`, present when the file records its lanes in Redis (files from before that
/// do not: any lane may have reports there).
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
/// The lanes a process on this file may have put usage reports of in Redis that Redis has
/// not yet settled: a process restarted while Redis does not answer holds these lanes only,
/// not every lane.
const LANES: TableDefinition<&str, ()> = TableDefinition::new("lanes_in_redis");

/// A report as the file keeps it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Record {
    report: Report,
    /// It may be on its way to the service.
    #[serde(default)]
    sending: bool,
    /// It may also sit in the shared queue in Redis under this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shared_id: Option<String>,
}

/// A report found in the file when it was opened.
#[derive(Debug)]
pub(crate) struct Restored {
    pub(crate) id: u64,
    pub(crate) report: Report,
    /// It was on its way when its process stopped: the service may have counted it.
    pub(crate) sending: bool,
    pub(crate) shared_id: Option<String>,
}

/// Whether an earlier process had the file, and how it named what it put in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Inherited {
    /// A new file.
    No,
    /// Its processes named themselves in it: their reports in Redis carry that name.
    Named,
    /// An earlier SDK's file, from before files named their processes: its reports in
    /// Redis have bare ids, which cannot be told from other instances' of that SDK.
    Unnamed,
}

/// Runs on the store's thread once the change it was given is committed (or failed).
type Then = Box<dyn FnOnce(Result<()>) + Send>;

enum Change {
    Append {
        id: u64,
        record: Vec<u8>,
        then: Then,
    },
    Sending {
        id: u64,
        sending: bool,
        then: Option<Then>,
    },
    Remove {
        id: u64,
        then: Option<Then>,
    },
    NoteLanes {
        lanes: Vec<String>,
        /// With these, every lane that may have reports in Redis is recorded.
        complete: bool,
        then: Then,
    },
    ForgetLanes {
        lanes: Vec<String>,
    },
}

/// The file and the thread that writes it. Dropping it lets the thread commit what it was
/// given and waits for it, so that the file is closed (and its lock released) on return.
pub(crate) struct ReportStore {
    path: PathBuf,
    /// The name the processes on this file give the reports they put in Redis, kept in the
    /// file: a process knows which reports its predecessor on the file left there.
    instance: String,
    /// Whether an earlier process had this file.
    inherited: Inherited,
    /// The lanes the file said, when opened, may have reports in Redis; `None` for a file
    /// from before files recorded them.
    lanes_in_redis: Option<std::collections::HashSet<String>>,
    changes: Option<mpsc::Sender<Change>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ReportStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportStore")
            .field("path", &self.path)
            .finish()
    }
}

impl ReportStore {
    /// Opens (or creates) the file at `path` and says what it holds, oldest first.
    pub(crate) fn open(path: &Path) -> Result<(Self, Vec<Restored>)> {
        let failed = |what: &str, error: &dyn std::fmt::Display| {
            Error::config(format!(
                "could not {what} the durable report queue at {}: {error}",
                path.display()
            ))
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| failed("create the folder of", &e))?;
        }
        let database = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => failed(
                "open",
                &"another client (in this process or another) has it open; \
                  give each client its own path",
            ),
            e => failed("open", &e),
        })?;
        let Opened {
            restored,
            instance,
            inherited,
            lanes_in_redis,
        } = read_all(&database).map_err(|e| failed("read", &e))?;
        let (changes, receive) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("kelviq-queue-store".into())
            .spawn(move || write_until_closed(database, receive))
            .map_err(|e| failed("start the writer of", &e))?;
        Ok((
            Self {
                path: path.to_owned(),
                instance,
                inherited,
                lanes_in_redis,
                changes: Some(changes),
                writer: Some(writer),
            },
            restored,
        ))
    }

    /// The name every process on this file gives the reports it puts in Redis.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether an earlier process had this file: it may have left reports in Redis.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn inherited(&self) -> Inherited {
        self.inherited
    }

    /// The lanes an earlier process on the file may have left usage reports of in Redis
    /// (`None`: the file is from before files recorded them, so any lane may have some).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn lanes_in_redis(&self) -> Option<&std::collections::HashSet<String>> {
        self.lanes_in_redis.as_ref()
    }

    /// Records that reports of `lanes` may be put in Redis, and waits until that is on disk:
    /// a process restarted on the file then knows which lanes to hold while Redis does not
    /// answer. Called before the push, so that a kill between the two cannot hide one.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    /// With `complete`, the file also says from then on that it records every such lane
    /// (for a file from before it did, once Redis has said what its earlier processes left).
    pub(crate) async fn note_lanes(&self, lanes: Vec<String>, complete: bool) -> Result<()> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(Change::NoteLanes {
            lanes,
            complete,
            then: Box::new(move |result| {
                let _ = done.send(result);
            }),
        });
        wait.await
            .unwrap_or_else(|_| Err(Error::storage("the store's writer stopped")))
    }

    /// Forgets lanes Redis holds nothing of any more, without waiting (a lane left recorded
    /// only makes a restart hold it until Redis answers).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn forget_lanes(&self, lanes: Vec<String>) {
        if !lanes.is_empty() {
            self.send(Change::ForgetLanes { lanes });
        }
    }

    fn send(&self, change: Change) {
        if let Some(changes) = &self.changes {
            // The writer only stops when `changes` is dropped, in `drop`.
            let _ = changes.send(change);
        }
    }

    /// Keeps `report` as number `id`; `then` runs on the writer's thread once the commit
    /// that holds it is on disk, or with the error that stopped it.
    pub(crate) fn append(&self, id: u64, report: &Report, shared_id: Option<&str>, then: Then) {
        let record = serde_json::to_vec(&Record {
            report: report.clone(),
            sending: false,
            shared_id: shared_id.map(str::to_owned),
        })
        .expect("a report serialises to JSON");
        self.send(Change::Append { id, record, then });
    }

    /// Marks report `id` as on its way, and waits until the mark is on disk.
    pub(crate) async fn mark_sending(&self, id: u64) -> Result<()> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(Change::Sending {
            id,
            sending: true,
            then: Some(Box::new(move |result| {
                let _ = done.send(result);
            })),
        });
        wait.await
            .unwrap_or_else(|_| Err(Error::storage("the store's writer stopped")))
    }

    /// Takes the mark off a report that was not sent after all, and waits until that is on
    /// disk. Should the write fail, the writer keeps the change and writes it with its next
    /// commit: it is never forgotten.
    pub(crate) async fn unmark_sending(&self, id: u64) {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(Change::Sending {
            id,
            sending: false,
            then: Some(Box::new(move |result| {
                let _ = done.send(result);
            })),
        });
        if let Ok(Err(error)) = wait.await {
            tracing::error!(%error, id, "the durable queue could not yet record that a DELTA was not sent; it tries again");
        }
    }

    /// Forgets report `id` (delivered, refused, or given up on), and waits until that is on
    /// disk, so that the next report of its lane is not sent while a crash could still send
    /// this one again. A failed write is tried again with every later commit (and every
    /// second) until it lands; the wait lasts as long (or until the store closes).
    pub(crate) async fn remove(&self, id: u64) {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(Change::Remove {
            id,
            then: Some(Box::new(move |result| {
                let _ = done.send(result);
            })),
        });
        let _ = wait.await;
    }

    /// Forgets report `id` without waiting.
    pub(crate) fn forget(&self, id: u64) {
        self.send(Change::Remove { id, then: None });
    }
}

impl Drop for ReportStore {
    fn drop(&mut self) {
        drop(self.changes.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// What a file holds when it is opened.
struct Opened {
    /// Its reports, oldest first.
    restored: Vec<Restored>,
    /// The name of its processes.
    instance: String,
    inherited: Inherited,
    lanes_in_redis: Option<std::collections::HashSet<String>>,
}

/// What the file holds, and the name of its processes (given now to a new file).
fn read_all(database: &Database) -> std::result::Result<Opened, redb::Error> {
    let write = database.begin_write()?;
    // A file an earlier SDK wrote has its reports table but no name: its processes gave
    // the reports they put in Redis bare ids.
    let used_before = write
        .list_tables()?
        .any(|table| table.name() == REPORTS.name());
    // Creates the tables in a new file, so that reading them cannot fail for their absence.
    write.open_table(REPORTS)?;
    write.open_table(LANES)?;
    let (instance, inherited) = {
        let mut meta = write.open_table(META)?;
        let known = meta.get("instance")?.map(|name| name.value().to_owned());
        match known {
            Some(instance) => (instance, Inherited::Named),
            None => {
                let instance = uuid::Uuid::new_v4().simple().to_string();
                meta.insert("instance", instance.as_str())?;
                let inherited = if used_before {
                    Inherited::Unnamed
                } else {
                    Inherited::No
                };
                (instance, inherited)
            }
        }
    };
    // A new file records its lanes from the start. One that did not record them yet says so
    // only once Redis has said what its earlier processes left there and those lanes are
    // recorded (`note_lanes` with `complete`): a process that stops before then leaves the
    // next one holding every lane, as it did.
    let recorded = {
        let mut meta = write.open_table(META)?;
        let recorded = meta.get("lanes")?.is_some();
        if !recorded && inherited == Inherited::No {
            meta.insert("lanes", "recorded")?;
        }
        recorded || inherited == Inherited::No
    };
    let lanes_in_redis = if recorded {
        let table = write.open_table(LANES)?;
        let mut lanes = std::collections::HashSet::new();
        for entry in table.iter()? {
            lanes.insert(entry?.0.value().to_owned());
        }
        Some(lanes)
    } else {
        None
    };
    write.commit()?;
    let read = database.begin_read()?;
    let table = read.open_table(REPORTS)?;
    let mut restored = Vec::new();
    for entry in table.iter()? {
        let (id, bytes) = entry?;
        match serde_json::from_slice::<Record>(bytes.value()) {
            Ok(record) => restored.push(Restored {
                id: id.value(),
                report: record.report,
                sending: record.sending,
                shared_id: record.shared_id,
            }),
            // Written by a later version of this crate: left in place for it.
            Err(error) => tracing::error!(
                id = id.value(),
                %error,
                "a report in the durable queue could not be read; left in the file"
            ),
        }
    }
    Ok(Opened {
        restored,
        instance,
        inherited,
        lanes_in_redis,
    })
}

/// The writer: one transaction and one sync for every change waiting when it wakes.
/// Removals and unmarkings whose commit failed are kept and written with the next commit
/// (tried again every second while nothing else arrives): a settled report must not come
/// back after a crash, nor an unsent `DELTA` be taken for one that may have been sent.
fn write_until_closed(database: Database, changes: mpsc::Receiver<Change>) {
    let mut carried: Vec<Change> = Vec::new();
    loop {
        let first = if carried.is_empty() {
            match changes.recv() {
                Ok(first) => Some(first),
                Err(_) => break,
            }
        } else {
            match changes.recv_timeout(std::time::Duration::from_secs(1)) {
                Ok(first) => Some(first),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            }
        };
        let closing = first.is_none() && !carried.is_empty() && {
            // One last try for what was carried when the store closes.
            matches!(changes.try_recv(), Err(mpsc::TryRecvError::Disconnected))
        };
        let batch: Vec<Change> = std::mem::take(&mut carried)
            .into_iter()
            .chain(first)
            .chain(changes.try_iter())
            .collect();
        let result = commit(&database, &batch).map_err(|e| {
            tracing::error!(error = %e, "the durable report queue could not write its file");
            Error::storage(format!("could not write the file: {e}"))
        });
        for change in batch {
            match change {
                Change::Append { then, .. } => then(result.clone()),
                Change::Sending { id, sending, then } => {
                    if let Some(then) = then {
                        then(result.clone());
                    }
                    if result.is_err() && !sending {
                        carried.push(Change::Sending {
                            id,
                            sending,
                            then: None,
                        });
                    }
                }
                // Its caller hears once the removal is on disk, not before: the lane of a
                // delivered report waits meanwhile, since a crash would send it again.
                Change::Remove { id, then } => match result {
                    Ok(()) => {
                        if let Some(then) = then {
                            then(Ok(()));
                        }
                    }
                    Err(_) => carried.push(Change::Remove { id, then }),
                },
                // The caller pushes nothing to Redis unless the note is on disk.
                Change::NoteLanes { then, .. } => then(result.clone()),
                // A lane left recorded costs a restart a wait, never an order.
                Change::ForgetLanes { .. } => {}
            }
        }
        if closing {
            break;
        }
    }
}

fn commit(database: &Database, batch: &[Change]) -> std::result::Result<(), redb::Error> {
    let write = database.begin_write()?;
    {
        let mut table = write.open_table(REPORTS)?;
        for change in batch {
            match change {
                Change::Append { id, record, .. } => {
                    table.insert(*id, record.as_slice())?;
                }
                Change::Sending { id, sending, .. } => {
                    let record = table
                        .get(*id)?
                        .and_then(|bytes| serde_json::from_slice::<Record>(bytes.value()).ok());
                    if let Some(mut record) = record {
                        record.sending = *sending;
                        let bytes = serde_json::to_vec(&record).expect("a report serialises");
                        table.insert(*id, bytes.as_slice())?;
                    }
                }
                Change::Remove { id, .. } => {
                    table.remove(*id)?;
                }
                Change::NoteLanes { .. } | Change::ForgetLanes { .. } => {}
            }
        }
        let mut lanes = write.open_table(LANES)?;
        for change in batch {
            match change {
                Change::NoteLanes {
                    lanes: noted,
                    complete,
                    ..
                } => {
                    for lane in noted {
                        lanes.insert(lane.as_str(), ())?;
                    }
                    if *complete {
                        write.open_table(META)?.insert("lanes", "recorded")?;
                    }
                }
                Change::ForgetLanes { lanes: forgotten } => {
                    for lane in forgotten {
                        lanes.remove(lane.as_str())?;
                    }
                }
                _ => {}
            }
        }
    }
    write.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kelviq_gen::types as wire;

    fn delta(value: i64) -> Report {
        Report::Usage(wire::ReportUsageRequest {
            value,
            customer_id: "c".parse().unwrap(),
            feature_id: "f".parse().unwrap(),
            behaviour: wire::Behaviour::Delta,
            resource_id: None,
        })
    }

    async fn append(store: &ReportStore, id: u64, report: Report) {
        let (done, wait) = tokio::sync::oneshot::channel();
        store.append(
            id,
            &report,
            None,
            Box::new(move |r| {
                let _ = done.send(r);
            }),
        );
        wait.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn what_is_appended_and_not_removed_is_there_after_reopening() {
        let dir = tempdir();
        let path = dir.join("queue.redb");
        {
            let (store, restored) = ReportStore::open(&path).unwrap();
            assert!(restored.is_empty());
            for id in 0..5 {
                append(&store, id, delta(id as i64)).await;
            }
            store.remove(1).await;
            store.mark_sending(3).await.unwrap();
            store.mark_sending(4).await.unwrap();
            store.unmark_sending(4).await;
        }
        let (_store, restored) = ReportStore::open(&path).unwrap();
        let seen: Vec<_> = restored.iter().map(|r| (r.id, r.sending)).collect();
        assert_eq!(seen, [(0, false), (2, false), (3, true), (4, false)]);
        assert_eq!(restored[1].report, delta(2));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_second_client_on_the_same_file_is_refused_with_the_path() {
        let dir = tempdir();
        let path = dir.join("queue.redb");
        let _first = ReportStore::open(&path).unwrap();
        let error = ReportStore::open(&path).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Config);
        let text = error.to_string();
        assert!(
            text.contains("queue.redb") && text.contains("own path"),
            "{text}"
        );
        drop(_first);
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kelviq-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
