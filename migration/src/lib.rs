//! CBSS schema and reference-data migrations. Each migration is frozen once released: it never
//! imports the `entity` crate, so later entity changes cannot rewrite history.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261127_000001_core_schema;
mod m20261127_000002_reference_data;
mod m20261127_000003_access_control;
mod m20261128_000001_growth_zscores;
mod m20261128_000002_health_schedules;
mod m20261128_000003_milestones;
mod m20261129_000001_sync;
mod m20261129_000002_family_empowerment;
mod m20261130_000001_indicators;
mod m20261130_000002_population;
mod m20261201_000001_settlement;
mod m20261201_000002_enrolled_indicators;
mod m20261201_000003_assessment_indicators;
mod m20261202_000001_detail_dates;
mod m20261203_000001_enrolment_start;
mod m20261204_000001_person_cohort;
mod m20261204_000002_record_person_type;
mod m20261205_000001_unit_pages;
mod m20261206_000001_unit_orders;
mod m20261207_000001_foreign_key_indexes;
mod m20261208_000001_project_sync;
mod m20261209_000001_user_sessions;
mod m20261210_000001_dose_validity;
mod m20261211_000001_indicator_sources;
mod m20261212_000001_derived_state;
mod m20261212_000002_pregnancy_outcome;
mod m20261212_000003_women_latest_birth;
mod m20261212_000004_school_year_ages;
mod m20261213_000001_school_grades;
mod m20261213_000002_hiv_knowledge;
mod m20261214_000001_login_throttle;
mod m20261214_000002_pregnancy_contacts_index;
mod m20261214_000003_dose_units;
mod m20261215_000001_change_seq_from_xid;
mod m20261215_000002_session_write_lsn;
mod m20261216_000001_referrals;
mod m20261217_000001_protection_cases;
mod m20261218_000001_case_indicators;
mod m20261219_000001_end_days;
mod m20261220_000001_rollups;
mod m20261220_000002_immunisation_person_doses;
pub mod reference;
mod rows;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_core_schema::Migration),
            Box::new(m20261127_000002_reference_data::Migration),
            Box::new(m20261127_000003_access_control::Migration),
            Box::new(m20261128_000001_growth_zscores::Migration),
            Box::new(m20261128_000002_health_schedules::Migration),
            Box::new(m20261128_000003_milestones::Migration),
            Box::new(m20261129_000001_sync::Migration),
            Box::new(m20261129_000002_family_empowerment::Migration),
            Box::new(m20261130_000001_indicators::Migration),
            Box::new(m20261130_000002_population::Migration),
            Box::new(m20261201_000001_settlement::Migration),
            Box::new(m20261201_000002_enrolled_indicators::Migration),
            Box::new(m20261201_000003_assessment_indicators::Migration),
            Box::new(m20261202_000001_detail_dates::Migration),
            Box::new(m20261203_000001_enrolment_start::Migration),
            Box::new(m20261204_000001_person_cohort::Migration),
            Box::new(m20261204_000002_record_person_type::Migration),
            Box::new(m20261205_000001_unit_pages::Migration),
            Box::new(m20261206_000001_unit_orders::Migration),
            Box::new(m20261207_000001_foreign_key_indexes::Migration),
            Box::new(m20261208_000001_project_sync::Migration),
            Box::new(m20261209_000001_user_sessions::Migration),
            Box::new(m20261210_000001_dose_validity::Migration),
            Box::new(m20261211_000001_indicator_sources::Migration),
            Box::new(m20261212_000001_derived_state::Migration),
            Box::new(m20261212_000002_pregnancy_outcome::Migration),
            Box::new(m20261212_000003_women_latest_birth::Migration),
            Box::new(m20261212_000004_school_year_ages::Migration),
            Box::new(m20261213_000001_school_grades::Migration),
            Box::new(m20261213_000002_hiv_knowledge::Migration),
            Box::new(m20261214_000001_login_throttle::Migration),
            Box::new(m20261214_000002_pregnancy_contacts_index::Migration),
            Box::new(m20261214_000003_dose_units::Migration),
            Box::new(m20261215_000001_change_seq_from_xid::Migration),
            Box::new(m20261215_000002_session_write_lsn::Migration),
            Box::new(m20261216_000001_referrals::Migration),
            Box::new(m20261217_000001_protection_cases::Migration),
            Box::new(m20261218_000001_case_indicators::Migration),
            Box::new(m20261219_000001_end_days::Migration),
            Box::new(m20261220_000001_rollups::Migration),
            Box::new(m20261220_000002_immunisation_person_doses::Migration),
        ]
    }
}
