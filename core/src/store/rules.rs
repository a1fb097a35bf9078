//! The rule table and holiday calendar shipped with this build, parsed once per process and shared by
//! every store module that computes a clock (tasks, leave, appeals).

use crate::deadlines::{DeadlineError, Engine};
use crate::error::{CoreError, Result};
use std::sync::OnceLock;

pub(super) fn engine() -> Result<&'static Engine> {
    static ENGINE: OnceLock<std::result::Result<Engine, DeadlineError>> = OnceLock::new();
    ENGINE
        .get_or_init(Engine::official)
        .as_ref()
        .map_err(|e| CoreError::Corrupt(format!("rule table or calendar: {e}")))
}
