//! Table `indicator`: a coverage indicator, a rule of the coverage engine with its parameters.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "indicator")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub code: String,
    pub sort_order: i32,
    /// PEOPLE_WITH_SERVICE, FULLY_IMMUNISED, BIRTHS_ANC, BIRTHS_SKILLED, BIRTHS_PNC, ANTHROPOMETRY,
    /// PEOPLE_WITH_OPEN_CASE, REFERRALS_COMPLETED, REFERRALS_ON_TIME, ...
    pub rule: String,
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
    /// Service type codes, or antigen:dose pairs, separated by `|`.
    pub services: Option<String>,
    pub window_days: Option<i32>,
    pub min_count: Option<i32>,
    /// haz, whz or waz
    pub z_index: Option<String>,
    pub z_cut: Option<f64>,
    pub z_above: bool,
    pub factor: i32,
    pub name_en: String,
    pub name_mn: String,
    pub numerator_en: String,
    pub denominator_en: String,
    /// The standard the indicator follows (SDG, MICS, WHO/UNICEF), or "Programme indicator".
    pub source: Option<String>,
    /// How it is counted here, and where that differs from its source.
    pub definition: Option<String>,
    /// Acute malnutrition: a mid-upper-arm circumference below this (mm, at 6-59 months) counts
    /// in the numerator and makes a measurement usable.
    pub muac_cut_mm: Option<f64>,
    /// Birth indicators counted as MICS does: women aged `min_age_months`..`max_age_months` on
    /// the reference date with a live birth in the period, each by her most recent one.
    pub latest_birth_per_woman: bool,
    /// Ages counted on the first day of the school year holding the reference date (MICS's
    /// education indicators), not on the reference date.
    pub ages_at_school_year_start: bool,
    /// Attendance ratios by level: the numerator counts open school enrolments at this grade or
    /// higher on the reference date.
    pub min_grade: Option<i32>,
    /// Counts published with the cell-key method to every caller but administrators (a count
    /// that could single out a child, such as an open protection case), not only to
    /// de-identified callers.
    pub always_protected: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
