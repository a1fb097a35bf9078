//! A site's place in the org tree, kept per process while the tree does not change (issue 12 §4).
//!
//! Every request needs its site's unit kind, the units it covers and those above it
//! ([`super::reads::site_auth`]): three statements, two of them recursive, for a tree that changes a
//! few times a year. Under the 200-office load they were a tenth of PostgreSQL's time. The tree's
//! version is one row (`server_meta.org_version`), set to a new random value by a trigger on every
//! write of an `org_unit` row (schema/server/postgres/0007_org_version.sql), whichever process
//! makes it; a request reads the version (one key lookup) and uses the place cached under it.
//!
//! A version is random rather than counted so that it names one state of the tree even across a
//! restore of the database: a restored tree comes back with the version it had.

use super::prepared::Prepared;
use super::reads;
use crate::error::Result;
use crate::master::ScopeUnits;
use jiceng_core::model::OrgKind;
use postgres::GenericClient;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A unit's place in the tree.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OrgPlace {
    pub kind: OrgKind,
    /// The unit and every unit below it.
    pub scope: ScopeUnits,
    /// The unit and every unit above it, nearest first.
    pub ancestors: Vec<String>,
}

/// The places read under one version of the tree; shared by every session of a process.
#[derive(Default)]
pub(super) struct OrgPlaces(Mutex<Cached>);

#[derive(Default)]
struct Cached {
    version: Option<String>,
    places: HashMap<String, Arc<OrgPlace>>,
}

/// Units whose places a process keeps (a province's tree has a few thousand).
const MAX_PLACES: usize = 20_000;

impl OrgPlaces {
    /// `unit`'s place, or None when there is no such unit.
    pub fn place(
        &self,
        db: &mut impl GenericClient,
        prepared: &mut Prepared,
        unit: &str,
    ) -> Result<Option<Arc<OrgPlace>>> {
        // The version is read before the tree: a place read after a change is then at worst newer
        // than its version says, never older (a place cached under a version is never older than
        // the tree that version names).
        let version = tree_version(db, prepared)?;
        if let Some(hit) = self.cached(&version, unit) {
            return Ok(Some(hit));
        }
        let Some(kind) = reads::org_unit_kind(db, prepared, unit)? else {
            return Ok(None);
        };
        let place = Arc::new(OrgPlace {
            kind,
            scope: ScopeUnits::new(reads::org_subtree(db, prepared, unit)?),
            ancestors: reads::org_ancestors(db, prepared, unit)?,
        });
        if version.is_some() {
            self.keep(version, unit, &place);
        }
        Ok(Some(place))
    }

    fn cached(&self, version: &Option<String>, unit: &str) -> Option<Arc<OrgPlace>> {
        let cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match version {
            Some(_) if cached.version == *version => cached.places.get(unit).cloned(),
            _ => None,
        }
    }

    fn keep(&self, version: Option<String>, unit: &str, place: &Arc<OrgPlace>) {
        let mut cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if cached.version != version || cached.places.len() >= MAX_PLACES {
            cached.places.clear();
            cached.version = version;
        }
        cached.places.insert(unit.to_string(), Arc::clone(place));
    }
}

/// The tree's version; None when its row is missing (nothing is then cached). Migration 0007 makes
/// the row and the trigger together. A database loaded with its triggers disabled is loaded while no
/// server runs (as `restore` requires), and the processes started after it read the tree afresh.
fn tree_version(db: &mut impl GenericClient, prepared: &mut Prepared) -> Result<Option<String>> {
    let statement = prepared.statement(
        db,
        "SELECT value FROM server_meta WHERE key = 'org_version'",
    )?;
    Ok(db.query_opt(&statement, &[])?.map(|r| r.get(0)))
}
