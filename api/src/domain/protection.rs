//! A child-protection case's lifecycle, as a pure rule: which steps may follow which, and who
//! may take them (Primero's model: the owner works the case, a supervisor oversees it, a transfer
//! is accepted or rejected by the one it is offered to).

use super::vocab::{CaseStatus, CaseStep, RiskLevel};

/// How a caller stands to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseRole {
    /// The case worker it is assigned to.
    Owner,
    /// A supervisor of the unit managing it.
    Supervisor,
    /// The worker a pending transfer is offered to, or a supervisor of the unit it would move to.
    Transferee,
}

/// Whether `step` may be taken on a case in `status` (with a transfer pending or not) by a
/// caller standing to it as `roles`.
pub fn step_allowed(status: CaseStatus, transfer_pending: bool, step: CaseStep, roles: &[CaseRole]) -> bool {
    use CaseStep::*;
    let open = status == CaseStatus::Open;
    let works = roles.contains(&CaseRole::Owner) || roles.contains(&CaseRole::Supervisor);
    match step {
        Open => false,
        Review | Plan => open && works,
        Transfer | Close => open && !transfer_pending && works,
        AcceptTransfer | RejectTransfer => open && transfer_pending && roles.contains(&CaseRole::Transferee),
        Reopen => status == CaseStatus::Closed && roles.contains(&CaseRole::Supervisor),
    }
}

/// Days to the next review after one (or the opening) at this risk level.
pub fn review_in_days(risk: RiskLevel) -> u64 {
    match risk {
        RiskLevel::High => 7,
        RiskLevel::Medium => 30,
        RiskLevel::Low => 90,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseRole::*;
    use CaseStep::*;

    #[test]
    fn the_owner_works_a_case_and_the_transferee_answers_a_transfer() {
        let open = CaseStatus::Open;
        assert!(step_allowed(open, false, Review, &[Owner]));
        assert!(step_allowed(open, false, Plan, &[Supervisor]));
        assert!(!step_allowed(open, false, Review, &[Transferee]), "not theirs until accepted");
        assert!(step_allowed(open, false, Transfer, &[Owner]));
        assert!(!step_allowed(open, true, Transfer, &[Owner]), "one transfer at a time");
        assert!(!step_allowed(open, true, Close, &[Owner]), "not while a transfer is pending");
        assert!(step_allowed(open, true, AcceptTransfer, &[Transferee]));
        assert!(step_allowed(open, true, RejectTransfer, &[Transferee]));
        assert!(!step_allowed(open, true, AcceptTransfer, &[Owner, Supervisor]), "the owner cannot accept for them");
        assert!(!step_allowed(open, false, AcceptTransfer, &[Transferee]), "nothing to accept");
        assert!(step_allowed(open, false, Close, &[Owner]));
        assert!(!step_allowed(open, false, Reopen, &[Supervisor]));
        for step in CaseStep::ALL {
            assert!(!step_allowed(open, false, *step, &[]), "a stranger takes no step");
            let closed_ok = step_allowed(CaseStatus::Closed, false, *step, &[Owner, Supervisor, Transferee]);
            assert_eq!(closed_ok, *step == Reopen, "{step:?} on a closed case");
        }
        assert!(!step_allowed(CaseStatus::Closed, false, Reopen, &[Owner]), "a supervisor reopens");
    }

    #[test]
    fn higher_risk_is_reviewed_sooner() {
        assert!(review_in_days(RiskLevel::High) < review_in_days(RiskLevel::Medium));
        assert!(review_in_days(RiskLevel::Medium) < review_in_days(RiskLevel::Low));
    }
}
