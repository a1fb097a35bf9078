//! What a site does when the master it syncs with is not the one it last saw (issue 10 §6): restored
//! from a backup, the master may lack operations it once acknowledged and may number its log anew.
//! Pure: the facts of one pull in, the actions out.

/// The facts a pull answer gives about the master, beside what the site remembers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterFacts<'a> {
    /// The master_id the site saw last (None before its first pull that carried one).
    pub known_master: Option<&'a str>,
    /// The master_id of this answer ("" from a server older than the field).
    pub master: &'a str,
    /// The last of the site's operations the master holds (None from an older server).
    pub site_last_seq: Option<u64>,
    /// The highest site_seq the site holds as acknowledged.
    pub acked_up_to: u64,
}

/// What the site must do before it goes on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resync {
    /// Pull again from the start (the master's log is another copy's: cursors do not carry over).
    pub restart_pull: bool,
    /// Send again every operation after this site_seq (the master lacks them).
    pub resend_after: Option<u64>,
    /// The master holds more of this site's log than the store knows acknowledged (the store was
    /// restored from a backup, or copied): take the site's own operations after this site_seq from it.
    pub catch_up_after: Option<u64>,
    /// Remember this master_id.
    pub remember: Option<String>,
}

pub fn resync(facts: &MasterFacts<'_>) -> Resync {
    let mut out = Resync::default();
    if !facts.master.is_empty() && facts.known_master != Some(facts.master) {
        out.remember = Some(facts.master.to_string());
        // The first master_id a site meets is simply learnt; a different one is a restored master.
        out.restart_pull = facts.known_master.is_some();
    }
    if let Some(last) = facts.site_last_seq {
        if last < facts.acked_up_to {
            out.resend_after = Some(last);
        } else if last > facts.acked_up_to {
            out.catch_up_after = Some(facts.acked_up_to);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        known: Option<&'a str>,
        master: &'a str,
        last: Option<u64>,
        acked: u64,
    ) -> MasterFacts<'a> {
        MasterFacts {
            known_master: known,
            master,
            site_last_seq: last,
            acked_up_to: acked,
        }
    }

    #[test]
    fn the_same_master_needs_nothing() {
        assert_eq!(
            resync(&facts(Some("m1"), "m1", Some(40), 40)),
            Resync::default()
        );
    }

    #[test]
    fn the_first_master_id_is_learnt_without_a_restart() {
        let r = resync(&facts(None, "m1", Some(40), 40));
        assert_eq!(r.remember.as_deref(), Some("m1"));
        assert!(!r.restart_pull);
    }

    #[test]
    fn a_restored_master_is_pulled_again_and_sent_what_it_lacks() {
        let r = resync(&facts(Some("m1"), "m2", Some(25), 40));
        assert!(r.restart_pull);
        assert_eq!(r.resend_after, Some(25));
        assert_eq!(r.remember.as_deref(), Some("m2"));
    }

    #[test]
    fn a_store_behind_its_own_log_on_the_master_catches_up() {
        let r = resync(&facts(Some("m1"), "m1", Some(60), 40));
        assert_eq!(r.catch_up_after, Some(40));
        assert_eq!(r.resend_after, None);
        assert!(!r.restart_pull);
    }

    #[test]
    fn an_older_server_without_the_fields_changes_nothing() {
        assert_eq!(resync(&facts(Some("m1"), "", None, 40)), Resync::default());
    }
}
