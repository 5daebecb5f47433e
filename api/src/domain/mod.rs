//! Domain rules as pure functions over values: vocabularies, ages and life stages, names, input
//! validation, WHO growth z-scores, schedules of due services, development milestones, school years and grades. Nothing
//! here touches the database or the network.

pub mod age;
pub mod age_band;
pub mod cell_key;
pub mod dose_validity;
pub mod eligibility;
pub mod family;
pub mod growth;
pub mod hiv_knowledge;
pub mod life_stage;
pub mod milestones;
pub mod names;
pub mod period;
pub mod pregnancy;
pub mod protection;
pub mod referral;
pub mod schedule;
pub mod school;
pub mod validate;
pub mod vocab;
pub mod zscore;
