//! Every indicator names the standard it follows (`source`) and says how it is counted and where
//! that differs from the standard (`definition`). New indicators:
//!
//! * postnatal checks within 2 days for mothers and for newborns on their own, as MICS reports
//!   them; their window, and PNC_2_DAYS's, is now the schedule's first postnatal contact (days 0
//!   and 1 after birth), not a window of its own that ran a day longer than the schedule's;
//! * SEVERE_WASTING, and global and severe acute malnutrition (GAM, SAM) by WHZ, bilateral pitting
//!   oedema or, at 6-59 months, mid-upper-arm circumference (`muac_cut_mm`: 125 and 115 mm, WHO
//!   2013).

use crate::reference::reference_id;
use crate::rows::{add_columns, drop_columns, insert};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_000001_indicator_sources"
    }
}

/// A new indicator: code, sort order, rule, services, z index, z cut, MUAC cut, English name,
/// Mongolian name, numerator, denominator.
type NewIndicator = (
    &'static str,
    i32,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<f64>,
    Option<f64>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const NEW: [NewIndicator; 5] = [
    (
        "PNC_MOTHER_2_DAYS",
        24,
        "BIRTHS_PNC",
        Some("PNC_MOTHER"),
        None,
        None,
        None,
        "Postnatal check of the mother within 2 days",
        "Төрсний дараах 2 хоногт эх үзлэгт хамрагдсан",
        "Live births whose mother was checked on the day of delivery or the next",
        "Live births in the period",
    ),
    (
        "PNC_NEWBORN_2_DAYS",
        25,
        "BIRTHS_PNC",
        Some("PNC_NEWBORN"),
        None,
        None,
        None,
        "Postnatal check of the newborn within 2 days",
        "Төрсний дараах 2 хоногт нярай үзлэгт хамрагдсан",
        "Live births whose newborn was checked on the day of birth or the next",
        "Live births in the period",
    ),
    (
        "SEVERE_WASTING",
        26,
        "ANTHROPOMETRY",
        None,
        Some("whz"),
        Some(-3.0),
        None,
        "Severe wasting (weight-for-height below -3 SD or oedema)",
        "Хүнд хэлбэрийн туранхай",
        "Children under 5 with weight-for-height below -3 SD or bilateral pitting oedema",
        "Children under 5 measured in the period",
    ),
    (
        "GAM",
        27,
        "ANTHROPOMETRY",
        None,
        Some("whz"),
        Some(-2.0),
        Some(125.0),
        "Global acute malnutrition (WHZ below -2 SD, MUAC below 125 mm or oedema)",
        "Цочмог хоол тэжээлийн дутагдал",
        "Children under 5 with weight-for-height below -2 SD, bilateral pitting oedema or (6-59 months) MUAC below 125 mm",
        "Children under 5 measured in the period",
    ),
    (
        "SAM",
        28,
        "ANTHROPOMETRY",
        None,
        Some("whz"),
        Some(-3.0),
        Some(115.0),
        "Severe acute malnutrition (WHZ below -3 SD, MUAC below 115 mm or oedema)",
        "Хүнд хэлбэрийн цочмог хоол тэжээлийн дутагдал",
        "Children under 5 with weight-for-height below -3 SD, bilateral pitting oedema or (6-59 months) MUAC below 115 mm",
        "Children under 5 measured in the period",
    ),
];

/// (code, source, definition) of every indicator.
const SOURCES: [(&str, &str, &str); 28] = [
    (
        "ANC4",
        "MICS: antenatal care coverage, at least four visits",
        "Live births in the period whose mother had 4 or more antenatal contacts recorded in that pregnancy. \
         MICS counts women aged 15-49 years with a live birth in the last 2 years (their most recent birth); \
         this counts every live birth of the chosen period, at any age of the mother.",
    ),
    (
        "SKILLED_BIRTH_ATTENDANCE",
        "SDG 3.1.2: births attended by skilled health personnel",
        "Live births in the period attended by a doctor or a nurse-midwife, as recorded with the pregnancy's \
         outcome. Surveys count the live births of the last 2 years; this counts those of the chosen period.",
    ),
    (
        "PNC_2_DAYS",
        "Programme indicator (MICS reports mothers and newborns apart: PNC_MOTHER_2_DAYS, PNC_NEWBORN_2_DAYS)",
        "Live births in the period whose mother or a newborn was checked on the day of birth or the next: \
         the schedule's first postnatal contact (within 48 hours; with dates alone a check on day 2 cannot be \
         shown to be within them).",
    ),
    (
        "FULL_IMMUNISATION",
        "MICS: full immunisation coverage (basic antigens), children 12-23 months",
        "Children 12-23 completed months old on the reference date with a valid BCG, third pentavalent \
         (DTP-containing) and third polio dose and a valid first MMR (measles) dose given by then: valid doses \
         only, evaluated against the minimum ages and intervals. MICS counts doses from cards and mothers' \
         recall; this counts the registry's doses.",
    ),
    (
        "VITAMIN_A",
        "UNICEF/MICS: vitamin A supplementation, children 6-59 months",
        "Children 6-59 months old on the reference date with a vitamin A dose recorded in the 183 days up to \
         it. UNICEF's programme coverage counts the children reached in each half-year round.",
    ),
    (
        "GROWTH_MONITORING",
        "Programme indicator",
        "Children 0-59 months old on the reference date with a growth monitoring record in the period.",
    ),
    (
        "STUNTING",
        "SDG 2.2.1; WHO Child Growth Standards: height-for-age below -2 SD",
        "Children under 5 (through day 1,826 of age) whose latest measurement in the period has a height-for-age \
         z-score below -2, over those whose latest measurement has one; WHO-flagged z-scores are left out.",
    ),
    ("SEVERE_STUNTING", "WHO Child Growth Standards: height-for-age below -3 SD", "As STUNTING, with the cut at -3."),
    (
        "WASTING",
        "SDG 2.2.2; WHO Child Growth Standards: weight-for-height below -2 SD",
        "Children under 5 whose latest usable measurement in the period has a weight-for-height z-score below \
         -2 or bilateral pitting oedema (WHO counts oedema as severe wasting); usable: a WHZ not flagged, or \
         oedema.",
    ),
    (
        "UNDERWEIGHT",
        "MICS; WHO Child Growth Standards: weight-for-age below -2 SD",
        "Children under 5 whose latest measurement in the period has a weight-for-age z-score below -2, over \
         those whose latest measurement has one; a child with oedema has none.",
    ),
    (
        "OVERWEIGHT",
        "SDG 2.2.2; WHO Child Growth Standards: weight-for-height above +2 SD",
        "Children under 5 whose latest measurement in the period has a weight-for-height z-score above +2, \
         over those whose latest measurement has one.",
    ),
    (
        "EARLY_CHILDHOOD_EDUCATION",
        "Programme indicator (SDG 4.2.2 counts participation one year before the official primary entry age)",
        "Children 36-59 months old on the reference date with an open kindergarten, ger-kindergarten or \
         outreach ECD enrolment then, or attending in the year up to it.",
    ),
    (
        "SCHOOL_ATTENDANCE",
        "Programme indicator (MICS reports net attendance ratios by level at the official ages of each level)",
        "Children 6-17 years old on the reference date with an open school enrolment then, or attending in \
         the year up to it, at any level.",
    ),
    (
        "ADOLESCENT_HIV_PREVENTION",
        "Programme indicator (MICS asks for comprehensive knowledge of HIV prevention, from a knowledge \
         assessment the model does not hold yet)",
        "Young people 15-24 years old on the reference date reached by an HIV/STI prevention session in the \
         year up to it.",
    ),
    (
        "HOUSEHOLDS_SAFE_WATER",
        "Programme indicator from the family assessment (SDG 6.1.1 counts safely managed drinking water)",
        "Households assessed in the period whose latest visit answered SAFE_WATER with YES, over those whose \
         latest visit answered it YES or NO.",
    ),
    (
        "HOUSEHOLDS_SANITATION",
        "Programme indicator from the family assessment (SDG 6.2.1 counts safely managed sanitation and a \
         hand-washing facility with soap and water)",
        "Households assessed in the period whose latest visit answered LATRINE_HANDWASHING with YES, over \
         those whose latest visit answered it YES or NO.",
    ),
    (
        "HOUSEHOLDS_IODISED_SALT",
        "Programme indicator from the family assessment (MICS tests the household's salt for iodine)",
        "Households assessed in the period whose latest visit answered IODISED_SALT with YES, over those \
         whose latest visit answered it YES or NO.",
    ),
    (
        "HOUSEHOLDS_BIRTHS_REGISTERED",
        "Programme indicator from the family assessment (SDG 16.9.1 counts children under 5 whose birth is \
         registered)",
        "Households assessed in the period whose latest visit answered BIRTH_REGISTERED with YES, over those \
         for whom it applied.",
    ),
    (
        "HOUSEHOLDS_HIV_KNOWLEDGE",
        "Programme indicator from the family assessment (MICS asks each woman and man about comprehensive \
         knowledge)",
        "Households assessed in the period whose latest visit answered HIV_KNOWLEDGE with YES, over those for \
         whom it applied.",
    ),
    (
        "PENTA1",
        "WHO/UNICEF estimates of national immunization coverage (WUENIC): DTP1",
        "Children 12-23 months old on the reference date with a valid first pentavalent (DTP-containing) dose \
         by then. WUENIC counts surviving infants vaccinated by their first birthday.",
    ),
    (
        "PENTA3",
        "WHO/UNICEF (WUENIC): DTP3; SDG 3.b.1",
        "Children 12-23 months old on the reference date with three valid pentavalent (DTP-containing) doses \
         by then. WUENIC counts surviving infants vaccinated by their first birthday.",
    ),
    (
        "MCV1",
        "WHO/UNICEF (WUENIC): MCV1",
        "Children 12-23 months old on the reference date with a valid first measles-containing (MMR) dose by \
         then: given at 9 months or later (less 4 days' grace).",
    ),
    (
        "INVALID_DOSES",
        "Programme indicator (registries' measure of doses given before their minimum age or interval, as \
         CDC's CDSi evaluates them)",
        "Doses of the children's schedule given in the period whose verdict is TOO_EARLY, TOO_SOON or \
         LIVE_VACCINE_TOO_SOON, over every evaluated dose given in the period (Td in pregnancy left out).",
    ),
    (
        "PNC_MOTHER_2_DAYS",
        "MICS: post-natal health check for the mother within 2 days of delivery",
        "Live births in the period whose mother had a postnatal check on the day of delivery or the next (the \
         schedule's first postnatal contact). MICS counts women aged 15-49 years with a live birth in the last \
         2 years.",
    ),
    (
        "PNC_NEWBORN_2_DAYS",
        "MICS: post-natal health check for the newborn within 2 days of birth",
        "Live births in the period of which a newborn had a postnatal check on the day of birth or the next \
         (the schedule's first postnatal contact); twins count once, as one birth, as MICS counts the last \
         birth.",
    ),
    (
        "SEVERE_WASTING",
        "WHO Child Growth Standards: weight-for-height below -3 SD",
        "As WASTING, with the cut at -3; bilateral pitting oedema counts.",
    ),
    (
        "GAM",
        "WHO/UNICEF joint statement (2009) and WHO guideline on severe acute malnutrition (2013): global acute \
         malnutrition",
        "Children under 5 whose latest usable measurement in the period shows a weight-for-height z-score below \
         -2, bilateral pitting oedema, or at 6-59 months a mid-upper-arm circumference below 125 mm; usable: \
         a WHZ not flagged, oedema, or at 6-59 months a MUAC.",
    ),
    (
        "SAM",
        "WHO guideline on severe acute malnutrition (2013)",
        "As GAM, with a WHZ below -3 or a MUAC below 115 mm; bilateral pitting oedema counts.",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "indicator",
            vec![string_null("source"), text_null("definition"), double_null("muac_cut_mm")],
        )
        .await?;
        // Postnatal care within 2 days takes the schedule's first contact as its window.
        manager
            .exec_stmt(
                Query::update()
                    .table("indicator")
                    .value("window_days", Option::<i32>::None)
                    .value(
                        "numerator_en",
                        "Live births whose newborn or mother was checked on the day of birth or the next",
                    )
                    .and_where(Expr::col("code").eq("PNC_2_DAYS"))
                    .to_owned(),
            )
            .await?;
        let rows = NEW
            .iter()
            .map(|(code, order, rule, services, z, cut, muac, en, mn, numerator, denominator)| {
                vec![
                    reference_id("indicator", code).into(),
                    (*code).into(),
                    (*order).into(),
                    (*rule).into(),
                    (*services).into(),
                    (*z).into(),
                    (*cut).into(),
                    false.into(),
                    100.into(),
                    (*en).into(),
                    (*mn).into(),
                    (*numerator).into(),
                    (*denominator).into(),
                    (*muac).into(),
                ]
            })
            .collect();
        insert(
            manager,
            "indicator",
            &[
                "code",
                "sort_order",
                "rule",
                "services",
                "z_index",
                "z_cut",
                "z_above",
                "factor",
                "name_en",
                "name_mn",
                "numerator_en",
                "denominator_en",
                "muac_cut_mm",
            ],
            rows,
        )
        .await?;
        for (code, source, definition) in SOURCES {
            manager
                .exec_stmt(
                    Query::update()
                        .table("indicator")
                        .value("source", source)
                        .value("definition", definition)
                        .and_where(Expr::col("code").eq(code))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let codes: Vec<&str> = NEW.iter().map(|r| r.0).collect();
        manager
            .exec_stmt(Query::delete().from_table("indicator").and_where(Expr::col("code").is_in(codes)).to_owned())
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table("indicator")
                    .value("window_days", 2)
                    .value("numerator_en", "Live births whose newborn or mother was checked within 2 days")
                    .and_where(Expr::col("code").eq("PNC_2_DAYS"))
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "indicator", &["source", "definition", "muac_cut_mm"]).await
    }
}
