//! The master as the server shares it between requests (issue 12 §1): `&self`, `Send + Sync`, and no
//! lock around the whole master.
//!
//! A backend hands out sessions, each one connection used by one request at a time, as a database
//! pool hands out connections: writer sessions ([`MasterStore`], `&mut self`) and reader sessions
//! ([`MasterReads`]). Reads (authentication, pulls, record pages) run on readers of their own beside
//! any write. Writes take a writer session: the SQLite backend has exactly one (SQLite allows one
//! writer per file), PostgreSQL up to [`MAX_PG_WRITERS`], which the database orders among themselves
//! (the log's advisory lock, taken by each push from its cursor to its commit).
//!
//! Pushes are group-committed here (issue 12 §4): a push joins a queue, and whoever takes a writer
//! next merges every push waiting, in as few transactions as their independence allows, and answers
//! each.

use super::{MasterReads, MasterStore, SiteAuth};
use crate::error::{Result, ServerError};
use jiceng_core::wire::{PushRequest, PushResponse};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Opens another writer session of a master (PostgreSQL: another connection).
pub type WriterFactory = Box<dyn Fn() -> Result<Box<dyn MasterStore>> + Send + Sync>;

/// Reader sessions a server process opens at most. A pull or a record page waits for one when all
/// are busy. Unbounded, 200 offices pulling at once opened a PostgreSQL backend each and closed all
/// but a few as they came back: a 12-second profile of that load counted 515 backends started, whose
/// start-up (fork, page faults, the session's own migration check) took more of the cores than the
/// pulls did. Two cores are kept busy by far fewer.
pub const MAX_READERS: usize = 16;
/// Writer sessions a PostgreSQL master opens at most per server process: enough to keep the
/// database busy while one push waits on its commit, few enough not to crowd its connections.
pub const MAX_PG_WRITERS: usize = 4;
/// Pushes a PostgreSQL writer takes into one group at most. Pushes are merged side by side on
/// several writers there (only their log records wait for one another), so the queue is better
/// shared among the writers than taken whole by the first free one: one group of 80 pushes made
/// each of them wait for all 80.
pub const MAX_PG_GROUP: usize = 16;

struct WaitingPush {
    ticket: u64,
    site: SiteAuth,
    request: PushRequest,
    answer: mpsc::SyncSender<Result<PushResponse>>,
}

/// Sessions of one kind (writers or readers): the idle ones, how many exist, and how to open another,
/// up to `max`. Sessions are kept open once opened.
struct Sessions<S: ?Sized> {
    state: Mutex<SessionState<S>>,
    freed: Condvar,
    open: Option<Box<dyn Fn() -> Result<Box<S>> + Send + Sync>>,
    max: usize,
}

struct SessionState<S: ?Sized> {
    idle: Vec<Box<S>>,
    open: usize,
}

/// The shared master.
pub struct MasterPool {
    writers: Sessions<dyn MasterStore>,
    /// Pushes one writer takes from the queue at most (SQLite: all; its group splits itself).
    max_group: usize,
    readers: Option<Sessions<dyn MasterReads>>,
    waiting: Mutex<Vec<WaitingPush>>,
    tickets: std::sync::atomic::AtomicU64,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A session checked out of its pool; it goes back when dropped.
pub struct Session<'p, S: ?Sized> {
    pool: &'p Sessions<S>,
    session: Option<Box<S>>,
}

/// A writer session checked out of the pool.
pub type WriterSession<'p> = Session<'p, dyn MasterStore>;

impl<S: ?Sized> Session<'_, S> {
    pub fn get(&mut self) -> &mut S {
        self.session
            .as_deref_mut()
            .expect("a checked-out session is present until dropped")
    }
}

impl<S: ?Sized> Drop for Session<'_, S> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            locked(&self.pool.state).idle.push(session);
            self.pool.freed.notify_one();
        }
    }
}

impl<S: ?Sized> Sessions<S> {
    fn new(
        first: Option<Box<S>>,
        open: Option<Box<dyn Fn() -> Result<Box<S>> + Send + Sync>>,
        max: usize,
    ) -> Sessions<S> {
        let opened = usize::from(first.is_some());
        Sessions {
            state: Mutex::new(SessionState {
                idle: first.into_iter().collect(),
                open: opened,
            }),
            freed: Condvar::new(),
            open,
            max,
        }
    }

    fn checkout(&self) -> Result<Session<'_, S>> {
        let mut state = locked(&self.state);
        loop {
            if let Some(session) = state.idle.pop() {
                return Ok(Session {
                    pool: self,
                    session: Some(session),
                });
            }
            if let Some(open) = self.open.as_ref().filter(|_| state.open < self.max) {
                state.open += 1;
                drop(state);
                return match open() {
                    Ok(session) => Ok(Session {
                        pool: self,
                        session: Some(session),
                    }),
                    Err(e) => {
                        locked(&self.state).open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl MasterPool {
    /// Shares `master` (its settings already applied: they are copied into every session opened
    /// later).
    pub fn new(master: Box<dyn MasterStore>) -> MasterPool {
        let readers = master
            .reader_factory()
            .map(|open| Sessions::new(None, Some(open), MAX_READERS));
        let open = master.writer_factory();
        let max = if open.is_some() { MAX_PG_WRITERS } else { 1 };
        MasterPool {
            max_group: if max > 1 { MAX_PG_GROUP } else { usize::MAX },
            writers: Sessions::new(Some(master), open, max),
            readers,
            waiting: Mutex::new(Vec::new()),
            tickets: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A writer session, for as long as the caller holds it (pushes wait for it on SQLite).
    pub fn writer(&self) -> Result<WriterSession<'_>> {
        self.writers.checkout()
    }

    /// Runs a write (administration, enrolment, the quarantine review) on a writer session.
    pub fn write<T>(&self, f: impl FnOnce(&mut dyn MasterStore) -> Result<T>) -> Result<T> {
        let mut session = self.writers.checkout()?;
        f(session.get())
    }

    /// Runs a read on a reader of its own when the master has them, else on a writer session.
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn MasterReads) -> Result<T>) -> Result<T> {
        let Some(pool) = &self.readers else {
            let mut session = self.writers.checkout()?;
            let writer: &mut dyn MasterReads = session.get();
            return f(writer);
        };
        let mut reader = pool.checkout()?;
        f(reader.get())
    }

    /// A push, group-committed with every push waiting when a writer is free.
    pub fn push(&self, site: SiteAuth, request: PushRequest, now_ms: u64) -> Result<PushResponse> {
        let (answer, answered) = mpsc::sync_channel(1);
        let ticket = self
            .tickets
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        locked(&self.waiting).push(WaitingPush {
            ticket,
            site,
            request,
            answer,
        });
        loop {
            let mut session = self.writers.checkout()?;
            // Taken with a writer in hand, from the front: pushes queued meanwhile, or left over
            // by a group's limit, wait for the next holder.
            let (waiting, mine_left) = {
                let mut queue = locked(&self.waiting);
                let take = queue.len().min(self.max_group);
                let waiting: Vec<WaitingPush> = queue.drain(..take).collect();
                let mine_left = queue.iter().any(|w| w.ticket == ticket);
                (waiting, mine_left)
            };
            if !waiting.is_empty() {
                let (items, answers): (Vec<_>, Vec<_>) = waiting
                    .into_iter()
                    .map(|w| ((w.site, w.request), w.answer))
                    .unzip();
                let results = session.get().push_group(items, now_ms);
                for (answer, result) in answers.into_iter().zip(results) {
                    let _ = answer.send(result);
                }
            }
            // Until this push has been taken (by this thread or another holder, which answers it),
            // this thread keeps taking groups: no push is left behind in the queue.
            if !mine_left {
                break;
            }
        }
        answered
            .recv()
            .map_err(|_| ServerError::Store("the push was not answered".to_string()))?
    }
}
