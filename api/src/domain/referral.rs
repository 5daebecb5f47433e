//! A referral's lifecycle, as a pure rule: which answers may follow which, and who may give them.

use super::vocab::ReferralStatus;

/// Which side of a referral a caller acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The referring side: the unit the subject lives in.
    Referrer,
    /// The receiving unit (or partner organisation).
    Receiver,
}

/// Whether a referral may move from `from` to `to`, and which side may move it.
pub fn step_allowed(from: ReferralStatus, to: ReferralStatus, side: Side) -> bool {
    use ReferralStatus::*;
    let open = matches!(from, Sent | Accepted);
    match to {
        Accepted | Declined => from == Sent && side == Side::Receiver,
        Completed => open && side == Side::Receiver,
        // Either side may find the person gone (unreachable, moved, died).
        Closed => open,
        Sent => false,
    }
}

/// Whether the referral still asks someone to act.
pub fn is_open(status: ReferralStatus) -> bool {
    matches!(status, ReferralStatus::Sent | ReferralStatus::Accepted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReferralStatus::*;

    #[test]
    fn only_open_referrals_move_and_only_the_receiver_answers() {
        assert!(step_allowed(Sent, Accepted, Side::Receiver));
        assert!(!step_allowed(Sent, Accepted, Side::Referrer));
        assert!(step_allowed(Sent, Declined, Side::Receiver));
        assert!(!step_allowed(Accepted, Declined, Side::Receiver), "accepted work is completed or closed");
        assert!(step_allowed(Accepted, Completed, Side::Receiver));
        assert!(step_allowed(Sent, Completed, Side::Receiver));
        assert!(!step_allowed(Accepted, Completed, Side::Referrer));
        assert!(step_allowed(Sent, Closed, Side::Referrer) && step_allowed(Accepted, Closed, Side::Receiver));
        for done in [Declined, Completed, Closed] {
            assert!(!is_open(done));
            for to in ReferralStatus::ALL {
                for side in [Side::Referrer, Side::Receiver] {
                    assert!(!step_allowed(done, *to, side), "{done:?} is final");
                }
            }
        }
        assert!(!step_allowed(Accepted, Sent, Side::Referrer));
    }
}
