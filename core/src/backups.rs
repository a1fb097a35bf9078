//! The desktop's 备份 / 恢复 (issue 10 §3): backups of the local store as files in `<data dir>/backups/`,
//! and putting one back in place of the store, keeping the replaced file aside. A restored store is a
//! new instance of the site's database: at its next sync the server recognises it, gives back what the
//! site pushed after the backup, and holds for review what the store wrote that the server never had.

use crate::error::{CoreError, Result};
use crate::model::BackupFile;
use crate::store::Store;
use std::path::{Path, PathBuf};

/// The folder of a data dir's backups.
pub fn backup_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

fn io(path: &Path, e: std::io::Error) -> CoreError {
    CoreError::Corrupt(format!("{}: {e}", path.display()))
}

/// Backs `store` up into a new file of `data_dir`'s backups, named by the time (Asia/Shanghai).
pub fn backup(store: &Store, data_dir: &Path) -> Result<BackupFile> {
    let dir = backup_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let at = crate::shanghai::from_millis(store.wall_millis());
    let mut name = format!("jiceng-{}.sqlite", at.format("%Y%m%d-%H%M%S"));
    let mut n = 1;
    while dir.join(&name).exists() {
        n += 1;
        name = format!("jiceng-{}-{n}.sqlite", at.format("%Y%m%d-%H%M%S"));
    }
    store.backup_to(&dir.join(&name))?;
    describe(&dir, &name)
}

fn describe(dir: &Path, name: &str) -> Result<BackupFile> {
    let path = dir.join(name);
    let meta = std::fs::metadata(&path).map_err(|e| io(&path, e))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Ok(BackupFile {
        name: name.to_string(),
        size_bytes: u32::try_from(meta.len()).unwrap_or(u32::MAX),
        created_at: crate::shanghai::from_millis(modified).to_rfc3339(),
    })
}

/// The data dir's backups, newest first.
pub fn list(data_dir: &Path) -> Result<Vec<BackupFile>> {
    let dir = backup_dir(data_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| valid_name(n))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    names.iter().map(|n| describe(&dir, n)).collect()
}

/// A backup's name as this module makes them: never a path.
fn valid_name(name: &str) -> bool {
    name.starts_with("jiceng-")
        && name.ends_with(".sqlite")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Puts the backup `name` in place of the (closed) store file `live`: the current file and its WAL
/// are moved aside to `<live>.before-restore-<ms>`, never deleted. Returns where they went.
pub fn restore(data_dir: &Path, name: &str, live: &Path, now_ms: u64) -> Result<PathBuf> {
    if !valid_name(name) {
        return Err(CoreError::invalid(
            "name",
            "not a backup of this desktop",
            "请选择本机的备份文件",
        ));
    }
    let source = backup_dir(data_dir).join(name);
    if !source.exists() {
        return Err(CoreError::NotFound("backup"));
    }
    let mut aside = live.as_os_str().to_owned();
    aside.push(format!(".before-restore-{now_ms}"));
    let aside = PathBuf::from(aside);
    if live.exists() {
        std::fs::rename(live, &aside).map_err(|e| io(live, e))?;
    }
    for suffix in ["-wal", "-shm"] {
        let mut from = live.as_os_str().to_owned();
        from.push(suffix);
        let from = PathBuf::from(from);
        if from.exists() {
            let mut to = aside.as_os_str().to_owned();
            to.push(suffix);
            std::fs::rename(&from, PathBuf::from(to)).map_err(|e| io(&from, e))?;
        }
    }
    std::fs::copy(&source, live).map_err(|e| io(&source, e))?;
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_this_module_are_backups() {
        assert!(valid_name("jiceng-20261202-101500.sqlite"));
        assert!(valid_name("jiceng-20261202-101500-2.sqlite"));
        assert!(!valid_name("../jiceng.sqlite"));
        assert!(!valid_name("jiceng-/../../etc.sqlite"));
        assert!(!valid_name("other.sqlite"));
    }
}
