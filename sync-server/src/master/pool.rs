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
//! Pushes are group-committed here (issue 12 §4): a push joins a queue, and whoever holds a writer
//! merges the pushes waiting, in as few transactions as their independence allows, and answers each.
//! A push never waits for a writer itself, only for its answer: its thread takes a writer only when
//! one is free as it joins the queue, and whoever frees a writer first takes what is left in the
//! queue. When each push's thread had to take a writer before it could return, a push merged long
//! before by another writer's group still waited for a writer of its own: under 200 offices' load
//! that wait was most of every push's time (p50 0.69 s of 0.8 s) and spread its latency to twice
//! the median.

use super::{MasterReads, MasterStore, SiteAuth};
use crate::error::{Result, ServerError};
use jiceng_core::wire::{PushRequest, PushResponse};
use std::collections::VecDeque;
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
/// Reader sessions kept for authenticating requests. Every request authenticates first, with a
/// few indexed reads; behind 16 pulls of 5,000 operations on the shared readers, a push's
/// authentication waited 0.18 s at p95 under 200 offices' load.
pub const MAX_AUTH_READERS: usize = 2;
/// Writer sessions a PostgreSQL master opens at most per server process: enough to keep the
/// database busy while one push waits on its commit, few enough not to crowd its connections.
pub const MAX_PG_WRITERS: usize = 4;
/// Pushes a PostgreSQL writer takes into one group at most. Pushes are merged side by side on
/// several writers there (only their log records wait for one another), so the queue is better
/// shared among the writers than taken whole by the first free one: one group of 80 pushes made
/// each of them wait for all 80.
pub const MAX_PG_GROUP: usize = 16;

/// Where a push's answer goes: its HTTP request's future, or a waiting thread.
pub type PushAnswer = Box<dyn FnOnce(Result<PushResponse>) + Send>;

struct WaitingPush {
    site: SiteAuth,
    request: PushRequest,
    now_ms: u64,
    answer: PushAnswer,
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
    authenticators: Option<Sessions<dyn MasterReads>>,
    /// Pushes waiting for a writer. Lock order: this queue, then a pool's sessions. Whenever the
    /// queue is not empty, a writer is held by a thread that will look at it again before it
    /// lets the writer go (see [`WriterSession`]'s drop).
    waiting: Mutex<VecDeque<WaitingPush>>,
    /// Groups whose merge is made to panic before it starts, for the test that a defect in the merge
    /// strands nothing ([`MasterPool::panic_in_next_merges`]); 0 outside that test.
    injected_panics: std::sync::atomic::AtomicUsize,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A session checked out of its pool; it goes back when dropped.
pub struct Session<'p, S: ?Sized> {
    pool: &'p Sessions<S>,
    session: Option<Box<S>>,
}

/// A writer session checked out of the pool. When it is let go, the pushes that queued meanwhile
/// are merged on it first: they did not wait for a writer of their own.
pub struct WriterSession<'p> {
    pool: &'p MasterPool,
    session: Option<Session<'p, dyn MasterStore>>,
}

impl WriterSession<'_> {
    pub fn get(&mut self) -> &mut dyn MasterStore {
        self.session
            .as_mut()
            .expect("a checked-out writer is present until dropped")
            .get()
    }
}

impl Drop for WriterSession<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            self.pool.drain_then_release(session);
        }
    }
}

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

    /// Opens sessions until `max` are open, kept idle.
    fn open_all(&self) -> Result<()> {
        while let Some(session) = self.open_one(locked(&self.state))? {
            locked(&self.state).idle.push(session);
            self.freed.notify_one();
        }
        Ok(())
    }

    /// Opens one more session if `max` allows (the slot taken under `state`, the connection made
    /// outside it); None when `max` are open.
    fn open_one(&self, mut state: MutexGuard<'_, SessionState<S>>) -> Result<Option<Box<S>>> {
        let Some(open) = self.open.as_ref().filter(|_| state.open < self.max) else {
            return Ok(None);
        };
        state.open += 1;
        drop(state);
        match open() {
            Ok(session) => Ok(Some(session)),
            Err(e) => {
                locked(&self.state).open -= 1;
                self.freed.notify_one();
                Err(e)
            }
        }
    }

    fn session(&self, session: Box<S>) -> Session<'_, S> {
        Session {
            pool: self,
            session: Some(session),
        }
    }

    /// A session if one is idle or may be opened now; never waits for one.
    fn try_checkout(&self) -> Result<Option<Session<'_, S>>> {
        let mut state = locked(&self.state);
        if let Some(session) = state.idle.pop() {
            return Ok(Some(self.session(session)));
        }
        Ok(self.open_one(state)?.map(|session| self.session(session)))
    }

    fn checkout(&self) -> Result<Session<'_, S>> {
        let mut state = locked(&self.state);
        loop {
            if let Some(session) = state.idle.pop() {
                return Ok(self.session(session));
            }
            if state.open < self.max && self.open.is_some() {
                if let Some(session) = self.open_one(state)? {
                    return Ok(self.session(session));
                }
                state = locked(&self.state);
                continue;
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
        let authenticators = master
            .reader_factory()
            .map(|open| Sessions::new(None, Some(open), MAX_AUTH_READERS));
        let open = master.writer_factory();
        let max = if open.is_some() { MAX_PG_WRITERS } else { 1 };
        MasterPool {
            max_group: if max > 1 { MAX_PG_GROUP } else { usize::MAX },
            writers: Sessions::new(Some(master), open, max),
            readers,
            authenticators,
            waiting: Mutex::new(VecDeque::new()),
            injected_panics: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Makes the next `groups` merges of queued pushes panic as they start, as a defect in the
    /// merge would. Only the test of `drain_then_release`'s guard calls it (sync-server/tests/
    /// backends.rs); no request can.
    #[doc(hidden)]
    pub fn panic_in_next_merges(&self, groups: usize) {
        self.injected_panics
            .store(groups, std::sync::atomic::Ordering::SeqCst);
    }

    /// A writer session, for as long as the caller holds it (pushes wait for it on SQLite).
    pub fn writer(&self) -> Result<WriterSession<'_>> {
        Ok(WriterSession {
            pool: self,
            session: Some(self.writers.checkout()?),
        })
    }

    /// Runs a write (administration, enrolment, the quarantine review) on a writer session.
    pub fn write<T>(&self, f: impl FnOnce(&mut dyn MasterStore) -> Result<T>) -> Result<T> {
        let mut session = self.writer()?;
        f(session.get())
    }

    /// Runs a write and hands its result to `answer` before the writer is let go. Letting it go
    /// merges the pushes queued meanwhile, which under load may take a while and, while pushes
    /// keep coming, go on; a request needs only its own answer (`http::with_master`).
    pub fn write_answering<T>(
        &self,
        f: impl FnOnce(&mut dyn MasterStore) -> Result<T>,
        answer: impl FnOnce(Result<T>),
    ) {
        match self.writer() {
            Ok(mut session) => {
                let result = f(session.get());
                answer(result);
                drop(session);
            }
            Err(e) => answer(Err(e)),
        }
    }

    /// Runs a read on a reader of its own when the master has them, else on a writer session.
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn MasterReads) -> Result<T>) -> Result<T> {
        let Some(pool) = &self.readers else {
            // As a writer session: pushes queued meanwhile are merged when it is let go.
            let mut session = self.writer()?;
            let writer: &mut dyn MasterReads = session.get();
            return f(writer);
        };
        let mut reader = pool.checkout()?;
        f(reader.get())
    }

    /// Opens every session the pool may hold, before the server listens: after a restart, when the
    /// offices come back at once, the first pushes and pulls then do not wait for connections
    /// to open (a PostgreSQL session's start-up runs its migration check and warms its caches).
    pub fn open_sessions(&self) -> Result<()> {
        self.writers.open_all()?;
        for pool in [&self.readers, &self.authenticators].into_iter().flatten() {
            pool.open_all()?;
        }
        Ok(())
    }

    /// The site a token belongs to, on the readers kept for it (see [`MAX_AUTH_READERS`]).
    pub fn authenticate(&self, token: &str) -> Result<SiteAuth> {
        match &self.authenticators {
            Some(pool) => pool.checkout()?.get().authenticate(token),
            None => self.read(|m| m.authenticate(token)),
        }
    }

    /// A push, group-committed with the pushes waiting beside it; returns its answer.
    pub fn push(&self, site: SiteAuth, request: PushRequest, now_ms: u64) -> Result<PushResponse> {
        let (answer, answered) = mpsc::sync_channel(1);
        self.enqueue_push(
            site,
            request,
            now_ms,
            Box::new(move |result| {
                let _ = answer.send(result);
            }),
        );
        answered
            .recv()
            .map_err(|_| ServerError::Store("the push was not answered".to_string()))?
    }

    /// Queues a push; `answer` is called once with its result, on whichever thread merged it.
    /// When a writer is free this thread takes it and merges what is waiting (its own push among
    /// it) before returning, possibly after `answer` was called; otherwise it returns at once.
    pub fn enqueue_push(
        &self,
        site: SiteAuth,
        request: PushRequest,
        now_ms: u64,
        answer: PushAnswer,
    ) {
        let writer = {
            let mut queue = locked(&self.waiting);
            // Under the queue's lock: either a writer is free here, or every writer is held by a
            // thread that will look at the queue again before it lets its writer go.
            match self.writers.try_checkout() {
                Ok(writer) => {
                    queue.push_back(WaitingPush {
                        site,
                        request,
                        now_ms,
                        answer,
                    });
                    writer
                }
                Err(e) => {
                    drop(queue);
                    answer(Err(e));
                    return;
                }
            }
        };
        if let Some(session) = writer {
            drop(WriterSession {
                pool: self,
                session: Some(session),
            });
        }
    }

    /// Merges the pushes waiting, a group at a time, then lets `session` go (under the queue's
    /// lock, so a push queued meanwhile either finds it free or is taken here first).
    fn drain_then_release(&self, mut session: Session<'_, dyn MasterStore>) {
        loop {
            let group: Vec<WaitingPush> = {
                let mut queue = locked(&self.waiting);
                if queue.is_empty() {
                    drop(session);
                    return;
                }
                let take = queue.len().min(self.max_group);
                queue.drain(..take).collect()
            };
            // The group's pushes were received at different times; the group is merged at the
            // latest of them.
            let now_ms = group.iter().map(|w| w.now_ms).max().unwrap_or_default();
            let (items, answers): (Vec<_>, Vec<_>) = group
                .into_iter()
                .map(|w| ((w.site, w.request), w.answer))
                .unzip();
            let count = answers.len();
            let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let injected = self.injected_panics.fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                );
                if injected.is_ok() {
                    panic!("a panic injected into the merge (MasterPool::panic_in_next_merges)");
                }
                session.get().push_group(items, now_ms)
            }));
            match results {
                Ok(results) => {
                    for (answer, result) in answers.into_iter().zip(results) {
                        answer(result);
                    }
                }
                // A defect in the merge must not strand the pushes queued behind this group.
                Err(_) => {
                    tracing::error!(count, "merging a group of pushes panicked");
                    for answer in answers {
                        answer(Err(ServerError::Store(
                            "the server failed while merging this push; nothing was written"
                                .to_string(),
                        )));
                    }
                }
            }
        }
    }
}
