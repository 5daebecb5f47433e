//! sea-orm entities of the CBSS data model: one module a table, no behaviour and no GraphQL.
//! Vocabulary columns (sex, level, dwelling, ...) are plain strings here; their allowed values
//! are defined once, in `cbss::domain::vocab`, and checked there before anything is written.

pub mod antigen;
pub mod antigen_dose;
pub mod app_user;
pub mod assessment_action;
pub mod assessment_answer;
pub mod assessment_indicator;
pub mod assessment_instrument;
pub mod attendance;
pub mod audit_log;
pub mod community_project;
pub mod consent;
pub mod enrolment;
pub mod family_assessment;
pub mod growth_measurement;
pub mod household;
pub mod immunisation;
pub mod indicator;
pub mod life_stage;
pub mod milestone;
pub mod milestone_check;
pub mod org_unit;
pub mod org_unit_group;
pub mod org_unit_group_member;
pub mod partner;
pub mod partner_assignment;
pub mod person;
pub mod population_estimate;
pub mod pregnancy;
pub mod pregnancy_child;
pub mod project_budget_line;
pub mod project_indicator;
pub mod project_partner;
pub mod project_reach;
pub mod project_report;
pub mod project_transition;
pub mod read;
pub mod refresh_token;
pub mod schedule_rule;
pub mod service_record;
pub mod service_type;
pub mod tombstone;
pub mod user_role;
pub mod user_scope;
pub mod user_session;
