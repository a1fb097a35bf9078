//! Local accounts (issue 11 §4): password rules, the lockout after repeated failed logins, and who must
//! change a password at next login. Pure: the account's events in, a decision out; the store records
//! the events (`auth_event`, append-only, replicated to the unit's PCs and the district) and asks here.
//!
//! Lockout works offline: failures are recorded on the PC where they happen and reach the unit's other
//! PCs and the district at the next sync, so a laptop guessed at in the field locks too.

use serde::{Deserialize, Serialize};

/// Failed logins in a row that lock an account.
pub const MAX_FAILURES: usize = 5;
/// How long a locked account stays locked.
pub const LOCK_MS: u64 = 15 * 60 * 1000;
/// Minutes without input after which the desktop locks its screen.
pub const IDLE_LOCK_MINUTES: u32 = 10;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords people choose first (checked case-insensitively, and with the username).
const COMMON: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "87654321",
    "11111111",
    "88888888",
    "66666666",
    "00000000",
    "password",
    "password1",
    "passw0rd",
    "abc12345",
    "abcd1234",
    "a1234567",
    "aa123456",
    "qwerty123",
    "qwertyui",
    "1qaz2wsx",
    "woaini1314",
    "iloveyou",
    "jiceng123",
    "admin123",
    "admin888",
];

/// One event of an account, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthEventKind {
    LoginFailed,
    /// A successful login after failures (a plain login writes nothing).
    LoginOk,
    PasswordChanged,
    /// Set by the office head or the district: the user must choose a new one at next login.
    PasswordReset,
}

impl AuthEventKind {
    pub const ALL: [AuthEventKind; 4] = [
        AuthEventKind::LoginFailed,
        AuthEventKind::LoginOk,
        AuthEventKind::PasswordChanged,
        AuthEventKind::PasswordReset,
    ];
    pub fn code(self) -> &'static str {
        match self {
            AuthEventKind::LoginFailed => "login_failed",
            AuthEventKind::LoginOk => "login_ok",
            AuthEventKind::PasswordChanged => "password_changed",
            AuthEventKind::PasswordReset => "password_reset",
        }
    }
    pub fn from_code(code: &str) -> Option<AuthEventKind> {
        AuthEventKind::ALL.into_iter().find(|k| k.code() == code)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            AuthEventKind::LoginFailed => "登录失败",
            AuthEventKind::LoginOk => "登录成功",
            AuthEventKind::PasswordChanged => "修改密码",
            AuthEventKind::PasswordReset => "重置密码",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthEvent {
    pub kind: AuthEventKind,
    pub at_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    Open {
        /// Failures in a row so far (the lock comes at MAX_FAILURES).
        failures: usize,
    },
    Locked {
        until_ms: u64,
    },
}

/// Whether the account is locked at `now_ms`, from its events in any order. A success, a change or a
/// reset ends a run of failures and lifts a lock; failures while locked are not counted again; a lock
/// that ran out starts a new count.
pub fn lock_state(events: &[AuthEvent], now_ms: u64) -> LockState {
    let mut sorted: Vec<AuthEvent> = events.to_vec();
    sorted.sort_by_key(|e| e.at_ms);
    let mut failures = 0usize;
    let mut locked_until = 0u64;
    for event in sorted {
        match event.kind {
            AuthEventKind::LoginFailed => {
                if event.at_ms < locked_until {
                    continue;
                }
                failures += 1;
                if failures >= MAX_FAILURES {
                    locked_until = event.at_ms.saturating_add(LOCK_MS);
                    failures = 0;
                }
            }
            AuthEventKind::LoginOk
            | AuthEventKind::PasswordChanged
            | AuthEventKind::PasswordReset => {
                failures = 0;
                locked_until = 0;
            }
        }
    }
    if now_ms < locked_until {
        LockState::Locked {
            until_ms: locked_until,
        }
    } else {
        LockState::Open { failures }
    }
}

/// Whether the user must choose a new password: the last password event is a reset by someone else.
pub fn must_change_password(events: &[AuthEvent]) -> bool {
    events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                AuthEventKind::PasswordChanged | AuthEventKind::PasswordReset
            )
        })
        .max_by_key(|e| (e.at_ms, e.kind == AuthEventKind::PasswordChanged))
        .is_some_and(|e| e.kind == AuthEventKind::PasswordReset)
}

/// Why a new password is refused (zh for the clerk, en for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordProblem {
    pub en: &'static str,
    pub zh: &'static str,
}

/// The rules for a new password: 8 to 128 characters, at least two of letters, digits and other
/// characters, not the username, not one of the passwords people choose first.
pub fn check_new_password(username: &str, password: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem {
            en: "a password has at least 8 characters",
            zh: "密码至少8位",
        });
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordProblem {
            en: "a password has at most 128 characters",
            zh: "密码最多128位",
        });
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordProblem {
            en: "a password has no control characters",
            zh: "密码不能包含控制字符",
        });
    }
    let letters = password.chars().any(char::is_alphabetic);
    let digits = password.chars().any(|c| c.is_ascii_digit());
    let others = password
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_control());
    if [letters, digits, others].iter().filter(|x| **x).count() < 2 {
        return Err(PasswordProblem {
            en: "a password mixes at least two of letters, digits and other characters",
            zh: "密码须包含字母、数字、符号中的至少两种",
        });
    }
    let lower = password.to_lowercase();
    let user = username.trim().to_lowercase();
    if !user.is_empty() && lower.contains(&user) {
        return Err(PasswordProblem {
            en: "a password does not contain the username",
            zh: "密码不能包含用户名",
        });
    }
    if COMMON.contains(&lower.as_str()) {
        return Err(PasswordProblem {
            en: "this password is among the first ones people try",
            zh: "这个密码太常见，容易被猜到，请换一个",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_800_000_000_000;

    fn failed(at_ms: u64) -> AuthEvent {
        AuthEvent {
            kind: AuthEventKind::LoginFailed,
            at_ms,
        }
    }

    #[test]
    fn five_failures_in_a_row_lock_the_account_for_15_minutes() {
        let four: Vec<AuthEvent> = (0..4).map(|i| failed(T + i * 1000)).collect();
        assert_eq!(lock_state(&four, T + 5000), LockState::Open { failures: 4 });
        let mut five = four.clone();
        five.push(failed(T + 4000));
        assert_eq!(
            lock_state(&five, T + 5000),
            LockState::Locked {
                until_ms: T + 4000 + LOCK_MS
            }
        );
        assert_eq!(
            lock_state(&five, T + 4000 + LOCK_MS),
            LockState::Open { failures: 0 }
        );
    }

    #[test]
    fn a_success_or_a_reset_ends_the_run_and_lifts_the_lock() {
        let mut events: Vec<AuthEvent> = (0..5).map(|i| failed(T + i)).collect();
        events.push(AuthEvent {
            kind: AuthEventKind::PasswordReset,
            at_ms: T + 100,
        });
        assert_eq!(
            lock_state(&events, T + 200),
            LockState::Open { failures: 0 }
        );
        let mut run: Vec<AuthEvent> = (0..3).map(|i| failed(T + i)).collect();
        run.push(AuthEvent {
            kind: AuthEventKind::LoginOk,
            at_ms: T + 10,
        });
        run.extend((0..4).map(|i| failed(T + 20 + i)));
        assert_eq!(lock_state(&run, T + 30), LockState::Open { failures: 4 });
    }

    #[test]
    fn failures_from_another_pc_arriving_out_of_order_count_the_same() {
        // Two PCs of the office, synced: the events arrive in any order.
        let mut events: Vec<AuthEvent> = (0..5).rev().map(|i| failed(T + i * 60_000)).collect();
        events.swap(1, 3);
        assert!(matches!(
            lock_state(&events, T + 5 * 60_000),
            LockState::Locked { .. }
        ));
    }

    #[test]
    fn failures_while_locked_do_not_extend_the_lock() {
        let mut events: Vec<AuthEvent> = (0..5).map(|i| failed(T + i)).collect();
        events.push(failed(T + 60_000));
        assert_eq!(
            lock_state(&events, T + 61_000),
            LockState::Locked {
                until_ms: T + 4 + LOCK_MS
            }
        );
    }

    #[test]
    fn a_reset_password_must_be_changed_until_the_user_changes_it() {
        let reset = AuthEvent {
            kind: AuthEventKind::PasswordReset,
            at_ms: T,
        };
        let changed = AuthEvent {
            kind: AuthEventKind::PasswordChanged,
            at_ms: T + 1,
        };
        assert!(!must_change_password(&[]));
        assert!(must_change_password(&[reset]));
        assert!(!must_change_password(&[reset, changed]));
        assert!(must_change_password(&[
            changed,
            AuthEvent {
                kind: AuthEventKind::PasswordReset,
                at_ms: T + 2
            }
        ]));
    }

    #[test]
    fn password_rules_say_what_is_wrong_in_chinese() {
        assert_eq!(
            check_new_password("clerk1", "a1b2").unwrap_err().zh,
            "密码至少8位"
        );
        assert!(check_new_password("clerk1", "abcdefgh")
            .unwrap_err()
            .zh
            .contains("至少两种"));
        assert!(check_new_password("clerk1", "clerk1-2026")
            .unwrap_err()
            .zh
            .contains("用户名"));
        assert!(check_new_password("clerk1", "Password1")
            .unwrap_err()
            .zh
            .contains("常见"));
        assert!(check_new_password("clerk1", "社区𠀀工作2026").is_ok());
        assert!(check_new_password("clerk1", "jiceng-demo").is_ok());
        assert!(check_new_password("clerk1", &"a1".repeat(65)).is_err());
    }
}
