//! SQLite's page cache, sized for what the store is doing (issue 14 §5). An encrypted store decrypts
//! a page (and checks its HMAC) on its way into the cache, so a large cache saves work, but it is
//! memory the desktop holds all day. At rest the store keeps SQLite's default (about 2 MiB): a
//! clerk's page of the register or a search costs 10–30 ms with it (core/benches/residents_paging).
//! A sync's pull merges thousands of operations into the same indexes again and again; for its
//! length the cache grows to hold them, and gives the memory back when the pull ends.

use super::Store;
use crate::error::Result;

/// The cache between syncs, KiB (SQLite's default).
pub const RESTING_CACHE_KIB: i64 = 2_000;
/// The cache while a pull merges, KiB: the register's indexes for 100,000 residents fit.
pub const BULK_CACHE_KIB: i64 = 32 * 1024;

impl Store {
    /// Grows the page cache for a bulk merge (`true`), or shrinks it back and frees what it held
    /// (`false`).
    pub fn bulk_page_cache(&self, bulk: bool) -> Result<()> {
        let kib = if bulk {
            BULK_CACHE_KIB
        } else {
            RESTING_CACHE_KIB
        };
        self.conn.pragma_update(None, "cache_size", -kib)?;
        if !bulk {
            self.conn.execute_batch("PRAGMA shrink_memory")?;
        }
        Ok(())
    }

    /// The page cache's size now, KiB.
    pub fn page_cache_kib(&self) -> Result<i64> {
        let size: i64 = self
            .conn
            .query_row("PRAGMA cache_size", [], |row| row.get(0))?;
        // Negative: KiB; positive: pages.
        Ok(if size < 0 {
            -size
        } else {
            size * self.page_size()? / 1024
        })
    }

    fn page_size(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA page_size", [], |row| row.get(0))?)
    }
}
