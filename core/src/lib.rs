//! # jiceng-core
//!
//! The heart of 基层通 Jiceng, shared by the desktop shell and the sync server, free of any UI:
//!
//! - [`model`]: the API types the desktop exchanges (exported to TypeScript by ts-rs);
//! - [`store`]: the local SQLite store; its single write path logs one [`op::Operation`] per changed
//!   field, in the same transaction, on a hash-chained per-site log;
//! - [`merge`]: the deterministic per-field merge with conflict items (DOMAIN.md D-3);
//! - [`hlc`]: the hybrid logical clock that never runs backwards;
//! - [`sync`] and [`wire`]: the sync client and the HTTP bodies it exchanges with `jiceng-server`;
//! - [`idcard`]: GB 11643 identity numbers; [`search`]: pinyin initials; [`shanghai`]: the calendar.
//! - [`deadlines`]: the statutory clocks: working-day calendar, L-0 period counting, the one rule table.
//!
//! Domain rules cite DOMAIN.md ids (C-…, L-…, W-…, D-…).

pub mod accounts;
pub mod acked_ranges;
pub mod auth;
pub mod backups;
pub mod bundle;
pub mod casefile;
pub mod codec;
pub mod consolidation;
pub mod dashboard;
pub mod deadlines;
pub mod demo_month;
pub mod directory_admin;
pub mod district_sites;
pub mod error;
pub mod hlc;
pub mod idcard;
pub mod investigation;
pub mod keyring;
pub mod leave;
pub mod lifecycle;
pub mod local_rules;
pub mod location;
pub mod merge;
pub mod model;
pub mod op;
pub mod oversight;
pub mod pdf_fonts;
pub mod permissions;
pub mod read_log;
pub mod resync;
pub mod scope_exit;
pub mod search;
pub mod shanghai;
pub mod snapshot;
pub mod stats;
pub mod store;
pub mod supervision;
pub mod sync;
mod sync_push;
pub mod sync_snapshot;
pub mod table_export;
pub mod tables;
pub mod tls;
pub mod transfer;
pub mod usb_sync;
pub mod validate;
pub mod vault;
pub mod wire;

pub use error::CoreError;
pub use store::Store;
pub use sync::SyncError;
