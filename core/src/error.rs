//! Errors of the local store and the domain rules. English in `Display` (logs, CLI), zh-CN in
//! `message_zh` (what a clerk reads), a stable machine `code` for both.

use crate::idcard::IdNumberError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid ID number: {0}")]
    IdNumber(#[from] IdNumberError),
    #[error("invalid input in field {field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: String,
        reason_zh: String,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("wrong username or password")]
    BadCredentials,
    /// Issue 11 §4: five failed logins in a row lock the account for 15 minutes.
    #[error("the account is locked after repeated failed logins until {until} (Asia/Shanghai)")]
    AccountLocked { until: String },
    #[error("permission denied: {0}")]
    Forbidden(&'static str),
    #[error("this desktop is not enrolled with a sync server yet")]
    NotEnrolled,
    #[error("an active case with ID number {0} already exists")]
    DuplicateCase(String),
    #[error("append-only record {0} cannot be edited; add a new entry instead")]
    AppendOnly(&'static str),
    #[error("illegal status change: {0}")]
    Transition(#[from] crate::lifecycle::TransitionError),
    /// Issue 11 §1: the store is encrypted and nobody has signed in since the app started.
    #[error("the local store is encrypted and locked: sign in first")]
    StoreLocked,
    #[error("the key does not open this store")]
    WrongStoreKey,
    #[error("no key entry for account {0} on this PC yet")]
    NoKeyEntry(String),
    #[error("the key file is unusable: {0}")]
    KeyFile(String),
}

impl CoreError {
    pub fn invalid(
        field: &'static str,
        reason: impl Into<String>,
        reason_zh: impl Into<String>,
    ) -> CoreError {
        CoreError::Invalid {
            field,
            reason: reason.into(),
            reason_zh: reason_zh.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Database(_) => "database",
            CoreError::Corrupt(_) => "corrupt",
            CoreError::IdNumber(_) => "invalid_id_number",
            CoreError::Invalid { .. } => "invalid_input",
            CoreError::NotFound(_) => "not_found",
            CoreError::BadCredentials => "bad_credentials",
            CoreError::AccountLocked { .. } => "account_locked",
            CoreError::Forbidden(_) => "forbidden",
            CoreError::NotEnrolled => "not_enrolled",
            CoreError::DuplicateCase(_) => "duplicate_case",
            CoreError::AppendOnly(_) => "append_only",
            CoreError::Transition(_) => "illegal_transition",
            CoreError::StoreLocked => "store_locked",
            CoreError::WrongStoreKey => "wrong_store_key",
            CoreError::NoKeyEntry(_) => "no_key_entry",
            CoreError::KeyFile(_) => "key_file",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            CoreError::Database(e) => {
                format!("本地数据库出错：{e}。请重启程序，若仍出错请联系区司法局管理员。")
            }
            CoreError::Corrupt(_) => {
                "本地数据已损坏，请联系区司法局管理员重新初始化本机。".to_string()
            }
            CoreError::IdNumber(e) => e.message_zh(),
            CoreError::Invalid { reason_zh, .. } => reason_zh.clone(),
            CoreError::NotFound(_) => "记录不存在，或不在本站的查看范围内。".to_string(),
            CoreError::BadCredentials => "用户名或密码错误。".to_string(),
            CoreError::AccountLocked { until } => format!(
                "密码连续输错{}次，账号已锁定至{until}。如需提前解锁，请联系单位负责人或区司法局重置密码。",
                crate::accounts::MAX_FAILURES
            ),
            CoreError::Forbidden(_) => "您的角色无权执行此操作。".to_string(),
            CoreError::NotEnrolled => {
                "本机尚未注册到同步服务器，请先填写服务器地址和注册码。".to_string()
            }
            CoreError::DuplicateCase(n) => format!("身份证号{n}已有在册的矫正案件，请勿重复建档。"),
            CoreError::AppendOnly(_) => {
                "此类记录只能新增，不能修改；如有错误请补录一条并注明。".to_string()
            }
            CoreError::Transition(e) => e.message_zh(),
            CoreError::StoreLocked => "本机数据已加密，请先登录。".to_string(),
            CoreError::WrongStoreKey => {
                "密钥打不开本机数据（数据文件可能来自另一台电脑），请联系区司法局管理员。".to_string()
            }
            CoreError::NoKeyEntry(user) => format!(
                "本机还没有账号“{user}”：新账号要等本机在有人登录时同步一次后才能在本机登录；急用时请向区司法局索取本机的恢复码。"
            ),
            CoreError::KeyFile(_) => {
                "本机的密钥文件已损坏，请联系区司法局管理员用恢复码打开。".to_string()
            }
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
