//! What every item of the schema discloses about a person, declared once, and what a
//! de-identified caller (ANALYST, RESEARCHER) gets of it.
//!
//! Every field of every object type has an [`Out`] class and every argument and input field an
//! [`In`] class, in the tables below. The executor applies [`Out`] to each field's value in one
//! extension ([`Guard`]), the planned people page and the CSV exports apply the same function
//! ([`shown`]), and the filter compiler asks [`input`] before it compiles a condition. A test
//! walks the schema and fails on any item without a class.
//!
//! The choices, and why: direct identifiers, free text and special categories are withheld
//! (null). Days of events about a person are shown as the first day of their month and instants
//! as the first instant of it; a span of days about a person as its whole months (in days), so
//! that no date minus an age gives a birth date. Ids of records about people are stable keyed
//! pseudonyms. Dates given in filters about people must be whole months, and the day ages and
//! statuses are computed on is moved to the end of its month ([`crate::store::Store::reference_day`]):
//! a day-by-day sweep of an `asOf` or a bound would otherwise find a birth day by bisection.
//! Counts of records about people are protected by the cell-key method
//! ([`crate::domain::cell_key`]), and records one by one ([`Out::Records`]) are for microdata
//! readers (RESEARCHER) only: a list's rows can be counted exactly, which would undo the
//! protection of every count an analyst is shown.

use crate::error::{ApiError, ApiResult};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{ServerResult, Value};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};
use uuid::Uuid;

/// The class of a field a caller reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Out {
    /// Reference data, codes, counts, states, and relations (whose own fields are classed).
    Safe,
    /// The id of a record about a person or household: a stable keyed pseudonym.
    Pseudonym,
    /// A direct identifier (name, registry number, phone, address, exact date of birth or
    /// death) or free text that may name someone: null.
    Direct,
    /// A special category of personal data (disability): null.
    Special,
    /// A quasi-identifier no coarsening keeps useful and safe (gestation weeks, a provider's
    /// name, who recorded it): null.
    Withheld,
    /// The day of an event about a person: the first day of its month.
    EventDate,
    /// The instant of an event about a person: the first instant of its month.
    EventTime,
    /// A number of days about a person (an age, an interval): its whole months, in days.
    Days,
    /// A z-score of a person's measurement, computed from the exact age: floored to the half SD
    /// (−2.37 → −2.5), which keeps WHO's cut-offs (−3, −2, +2, +3) and flags exact and leaves
    /// too little to work the age in days back out of a weight (a day moves a z-score ~0.01).
    ZScore,
    /// Completed months of age: computed on the last day of a month for de-identified callers
    /// (the store's reference day), which gives the same for every birth day in a month.
    AgeMonths,
    /// Records about people one by one (a list's rows, its page info, an assessment by id):
    /// FORBIDDEN to callers who read tables only ([`Reader::Tables`]), since rows can be counted;
    /// microdata readers get them, each field as its own class says.
    Records,
    /// A count of records about people: protected by the cell-key method for de-identified
    /// callers where it is counted (0–4: null; else within ±3).
    Count,
}

/// How much of the data a caller reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// Everything in their scope, as it is.
    Identified,
    /// De-identified records one by one, and protected tables (RESEARCHER).
    Microdata,
    /// Protected tables and counts only (ANALYST).
    Tables,
}

impl Reader {
    pub fn of(principal: &crate::access::Principal) -> Self {
        match (principal.deidentified, principal.tables_only) {
            (false, _) => Reader::Identified,
            (true, false) => Reader::Microdata,
            (true, true) => Reader::Tables,
        }
    }
}

/// Refuses a field of class `class` to a reader who may not read it at all.
pub fn readable(reader: Reader, class: Out) -> ApiResult<()> {
    match (reader, class) {
        (Reader::Tables, Records) => Err(ApiError::Forbidden),
        _ => Ok(()),
    }
}

impl Out {
    /// Whether a de-identified caller gets null whatever the value.
    pub fn withheld(self) -> bool {
        matches!(self, Out::Direct | Out::Special | Out::Withheld)
    }
}

/// The class of an argument or input field a caller gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    /// Anything may be given.
    Safe,
    /// Refused to de-identified callers (searching by name, household or address).
    Identifying,
    /// A date bounding a birth or an event about a person: de-identified callers give whole
    /// months (`gte`/`from` on a month's first day, `lte`/`to` on its last, `lt` on a first,
    /// `gt` on a last; no `eq`).
    WholeMonths,
    /// A bound on a z-score: de-identified callers give multiples of 0.5 (the half SD their
    /// z-scores are floored to), so no bisection finds an exact z-score.
    HalfSd,
    /// A number of days back from today that selects events: counted from the first day of
    /// that day's month for de-identified callers.
    DaysBack,
    /// The day ages and statuses are computed on: the end of its month for de-identified callers.
    ReferenceDay,
    /// Only in writes, which de-identified callers cannot make.
    Write,
}

type Fields = &'static [(&'static str, Out)];

use Out::*;

/// Every field of every object type and interface.
pub static OUTPUT: &[(&str, Fields)] = &[
    (
        "Aggregate",
        &[
            ("entity", Safe),
            ("orgUnit", Safe),
            ("asOf", Safe),
            ("groupBy", Safe),
            ("measures", Safe),
            ("rows", Safe),
            ("total", Safe),
        ],
    ),
    (
        "AggregateRow",
        &[
            ("orgUnit", Safe),
            ("sex", Safe),
            ("ageBand", Safe),
            ("urbanRural", Safe),
            ("period", Safe),
            ("serviceType", Safe),
            ("dwelling", Safe),
            ("count", Safe),
            ("people", Safe),
            ("households", Safe),
            ("meanHaz", Safe),
            ("meanWhz", Safe),
            ("meanWaz", Safe),
            ("suppressed", Safe),
        ],
    ),
    (
        "Antigen",
        &[
            ("id", Safe),
            ("code", Safe),
            ("nameEn", Safe),
            ("nameMn", Safe),
            ("doses", Safe),
            ("inNationalSchedule", Safe),
            ("liveInjected", Safe),
            ("doseSchedule", Safe),
        ],
    ),
    (
        "AntigenDose",
        &[
            ("doseNumber", Safe),
            ("recommendedAgeDays", Safe),
            ("minIntervalDays", Safe),
            ("maxAgeDays", Safe),
            ("graceDays", Safe),
            ("minAgeDays", Safe),
            ("maxValidAgeDays", Safe),
            ("validityGraceDays", Safe),
        ],
    ),
    (
        "AssessmentAction",
        &[
            ("id", Pseudonym),
            ("description", Direct),
            ("person", Safe),
            ("dueOn", EventDate),
            ("status", Safe),
            ("followedUpOn", EventDate),
            ("followUpNote", Direct),
        ],
    ),
    ("AssessmentAnswerItem", &[("indicator", Safe), ("answer", Safe)]),
    (
        "AssessmentIndicator",
        &[
            ("code", Safe),
            ("sortOrder", Safe),
            ("appliesWhen", Safe),
            ("area", Safe),
            ("questionEn", Safe),
            ("questionMn", Safe),
        ],
    ),
    (
        "AssessmentInstrument",
        &[("version", Safe), ("nameEn", Safe), ("nameMn", Safe), ("active", Safe), ("indicators", Safe)],
    ),
    (
        "AssessmentSummary",
        &[
            ("orgUnit", Safe),
            ("period", Safe),
            ("previousPeriod", Safe),
            ("householdsAssessed", Safe),
            ("previousHouseholdsAssessed", Safe),
            ("indicators", Safe),
            ("priorities", Safe),
        ],
    ),
    (
        "Attendance",
        &[
            ("id", Pseudonym),
            ("enrolmentId", Pseudonym),
            ("periodStart", EventDate),
            ("periodEnd", EventDate),
            ("daysPresent", Safe),
            ("daysExpected", Safe),
            ("rate", Safe),
        ],
    ),
    // The audit log is for administrators only; classed for completeness.
    (
        "AuditEntry",
        &[
            ("id", Safe),
            ("at", Safe),
            ("userId", Safe),
            ("roles", Safe),
            ("action", Safe),
            ("entity", Safe),
            ("entityId", Pseudonym),
            ("changes", Direct),
            ("detail", Direct),
        ],
    ),
    ("AuditEntryConnection", &[("pageInfo", Safe), ("edges", Safe), ("nodes", Safe), ("totalCount", Safe)]),
    ("AuditEntryEdge", &[("node", Safe), ("cursor", Safe)]),
    ("BudgetLine", &[("description", Safe), ("amountMnt", Safe), ("funder", Safe), ("partnerId", Safe)]),
    (
        "Change",
        &[
            ("cursor", Safe),
            ("entity", Safe),
            ("id", Pseudonym),
            ("version", Safe),
            ("deleted", Safe),
            ("deletedReason", Direct),
            ("record", Safe),
        ],
    ),
    ("ChangesPage", &[("changes", Safe), ("endCursor", Safe), ("hasMore", Safe)]),
    // Projects are about communities, not people; the households and people reached are classed
    // by their own types.
    (
        "CommunityProject",
        &[
            ("id", Safe),
            ("orgUnit", Safe),
            ("area", Safe),
            ("title", Safe),
            ("objectives", Safe),
            ("status", Safe),
            ("startsOn", Safe),
            ("endsOn", Safe),
            ("version", Safe),
            ("createdAt", Safe),
            ("updatedAt", Safe),
            ("indicatorCodes", Safe),
            ("budgetLines", Safe),
            ("partners", Safe),
            ("transitions", Safe),
            ("reports", Safe),
            ("householdsReached", Records),
            ("peopleReached", Records),
            ("totals", Safe),
        ],
    ),
    ("CommunityProjectConnection", &[("pageInfo", Safe), ("edges", Safe), ("nodes", Safe), ("totalCount", Safe)]),
    ("CommunityProjectEdge", &[("node", Safe), ("cursor", Safe)]),
    (
        "Consent",
        &[
            ("id", Pseudonym),
            ("householdId", Pseudonym),
            ("version", Safe),
            ("givenBy", Direct),
            ("representativeFor", Safe),
            ("purpose", Safe),
            ("legalBasis", Safe),
            ("givenOn", EventDate),
            ("withdrawnOn", EventDate),
            ("valid", Safe),
        ],
    ),
    (
        "Coverage",
        &[
            ("indicator", Safe),
            ("orgUnit", Safe),
            ("period", Safe),
            ("referenceDate", Safe),
            ("denominatorSource", Safe),
            ("groupBy", Safe),
            ("rows", Safe),
            ("total", Safe),
        ],
    ),
    (
        "CoverageRow",
        &[
            ("orgUnit", Safe),
            ("sex", Safe),
            ("ageBand", Safe),
            ("urbanRural", Safe),
            ("need", Safe),
            ("period", Safe),
            ("numerator", Safe),
            ("denominator", Safe),
            ("value", Safe),
            // Of a cell shown to the caller only: null when its counts are suppressed.
            ("medianDays", Safe),
            ("suppressed", Safe),
        ],
    ),
    ("DomainMilestones", &[("domain", Safe), ("onTrack", Safe), ("lastCheckedOn", EventDate), ("items", Safe)]),
    (
        "DueListEntry",
        &[("person", Safe), ("urgentFrom", EventDate), ("daysOverdue", Days), ("referrals", Safe), ("items", Safe)],
    ),
    ("DueListEntryConnection", &[("pageInfo", Safe), ("edges", Safe), ("nodes", Safe), ("totalCount", Safe)]),
    ("DueListEntryEdge", &[("node", Safe), ("cursor", Safe)]),
    (
        "DueService",
        &[
            ("kind", Safe),
            ("code", Safe),
            ("serviceTypeCode", Safe),
            ("antigenCode", Safe),
            ("number", Safe),
            ("status", Safe),
            ("dueDate", EventDate),
            ("overdueFrom", EventDate),
            ("closesOn", EventDate),
            ("givenOn", EventDate),
            ("daysOverdue", Days),
        ],
    ),
    (
        "Enrolment",
        &[
            ("id", Pseudonym),
            ("record", Safe),
            ("institution", Safe),
            ("grade", Safe),
            ("gradeNumber", Safe),
            ("currentGrade", Safe),
            ("endedOn", EventDate),
            ("endReason", Safe),
            ("attendance", Safe),
        ],
    ),
    (
        "FamilyAssessment",
        &[
            ("id", Pseudonym),
            ("household", Safe),
            ("orgUnit", Safe),
            ("assessedOn", EventDate),
            ("met", Safe),
            ("applicable", Safe),
            ("score", Safe),
            ("note", Direct),
            ("answers", Safe),
            ("actions", Safe),
            ("version", Safe),
        ],
    ),
    ("FunderTotal", &[("funder", Safe), ("amountMnt", Safe)]),
    ("GrowthChart", &[("indicator", Safe), ("sex", Safe), ("points", Safe), ("curves", Safe)]),
    (
        "GrowthChartPoint",
        &[
            ("id", Pseudonym),
            ("date", EventDate),
            ("ageDays", Days),
            ("value", Safe),
            ("zScore", ZScore),
            ("flagged", Safe),
        ],
    ),
    (
        "GrowthClassification",
        &[
            ("stunting", Safe),
            ("wasting", Safe),
            ("underweight", Safe),
            ("thinness", Safe),
            ("overweight", Safe),
            ("obesity", Safe),
        ],
    ),
    // WHO's reference curves, not a person.
    (
        "GrowthCurvePoint",
        &[
            ("ageDays", Safe),
            ("sdMinus3", Safe),
            ("sdMinus2", Safe),
            ("sdMinus1", Safe),
            ("median", Safe),
            ("sdPlus1", Safe),
            ("sdPlus2", Safe),
            ("sdPlus3", Safe),
        ],
    ),
    (
        "GrowthFlags",
        &[
            ("weightForAge", Safe),
            ("lengthHeightForAge", Safe),
            ("weightForLengthHeight", Safe),
            ("bmiForAge", Safe),
            ("standingUnder9Months", Safe),
            ("outsideWhoRange", Safe),
        ],
    ),
    (
        "GrowthMeasurement",
        &[
            ("id", Pseudonym),
            ("record", Safe),
            ("date", EventDate),
            ("weightKg", Safe),
            ("lengthHeightCm", Safe),
            ("position", Safe),
            ("muacMm", Safe),
            ("oedema", Safe),
            ("ageDays", Days),
            ("reference", Safe),
            ("weightForAge", ZScore),
            ("lengthHeightForAge", ZScore),
            ("weightForLengthHeight", ZScore),
            ("bmiForAge", ZScore),
            ("classification", Safe),
            ("flags", Safe),
        ],
    ),
    // Scores of the caller's own input, not of a stored person.
    (
        "GrowthZScores",
        &[
            ("reference", Safe),
            ("ageDays", Safe),
            ("correctedLengthHeightCm", Safe),
            ("bmi", Safe),
            ("weightForAge", Safe),
            ("lengthHeightForAge", Safe),
            ("weightForLengthHeight", Safe),
            ("bmiForAge", Safe),
            ("classification", Safe),
            ("flags", Safe),
        ],
    ),
    (
        "Household",
        &[
            ("id", Pseudonym),
            ("orgUnit", Safe),
            ("address", Direct),
            ("description", Direct),
            ("consents", Safe),
            ("dwelling", Safe),
            ("isHerder", Safe),
            ("migrantStatus", Safe),
            ("registeredOn", EventDate),
            ("members", Safe),
            ("serviceRecords", Safe),
            ("assessments", Safe),
            ("openActions", Safe),
            ("version", Safe),
            ("createdAt", EventTime),
            ("updatedAt", EventTime),
        ],
    ),
    ("HouseholdConnection", &[("pageInfo", Records), ("edges", Records), ("nodes", Records), ("totalCount", Count)]),
    ("HouseholdEdge", &[("node", Safe), ("cursor", Safe)]),
    (
        "Immunisation",
        &[
            ("id", Pseudonym),
            ("record", Safe),
            ("date", EventDate),
            ("antigen", Safe),
            ("doseNumber", Safe),
            // A verdict made on the exact age at the dose: with the dose's month it bounds the
            // age in days (a dose TOO_EARLY at 42 days).
            ("evaluation", Withheld),
            ("validDoseNumber", Withheld),
        ],
    ),
    (
        "HivKnowledge",
        &[
            ("id", Pseudonym),
            ("record", Safe),
            ("oneFaithfulPartner", Safe),
            ("condomEveryTime", Safe),
            ("healthyLookingPerson", Safe),
            ("mosquitoBites", Safe),
            ("sharingFood", Safe),
            ("comprehensive", Safe),
        ],
    ),
    (
        "Indicator",
        &[
            ("code", Safe),
            ("nameEn", Safe),
            ("nameMn", Safe),
            ("numerator", Safe),
            ("denominator", Safe),
            ("factor", Safe),
            ("rule", Safe),
            ("minAgeMonths", Safe),
            ("maxAgeMonths", Safe),
            ("source", Safe),
            ("definition", Safe),
            ("latestBirthPerWoman", Safe),
            ("agesAtSchoolYearStart", Safe),
            ("alwaysProtected", Safe),
            ("minGrade", Safe),
        ],
    ),
    (
        "IndicatorSummary",
        &[
            ("indicator", Safe),
            ("householdsApplicable", Safe),
            ("householdsMeeting", Safe),
            ("share", Safe),
            ("previousShare", Safe),
            ("change", Safe),
            ("suppressed", Safe),
            ("priorityRank", Safe),
        ],
    ),
    (
        "LifeStage",
        &[
            ("code", Safe),
            ("nameEn", Safe),
            ("nameMn", Safe),
            ("criterion", Safe),
            ("minAgeValue", Safe),
            ("minAgeUnit", Safe),
            ("maxAgeValue", Safe),
            ("maxAgeUnit", Safe),
        ],
    ),
    (
        "Milestone",
        &[
            ("code", Safe),
            ("domain", Safe),
            ("nameEn", Safe),
            ("nameMn", Safe),
            ("expectedFromMonths", Safe),
            ("expectedByMonths", Safe),
        ],
    ),
    ("MilestoneCheck", &[("milestone", Safe), ("achieved", Safe)]),
    ("MilestoneItem", &[("milestone", Safe), ("status", Safe), ("checkedOn", EventDate), ("achievedOn", EventDate)]),
    (
        "MilestoneProgress",
        &[
            ("asOf", Safe),
            ("ageMonths", AgeMonths),
            ("onTrackDomains", Safe),
            ("assessedDomains", Safe),
            ("domains", Safe),
        ],
    ),
    ("Node", &[("id", Pseudonym)]),
    (
        "OrgUnit",
        &[
            ("id", Safe),
            ("code", Safe),
            ("nameEn", Safe),
            ("nameMn", Safe),
            ("level", Safe),
            ("depth", Safe),
            ("validFrom", Safe),
            ("validTo", Safe),
            ("settlement", Safe),
            ("isDemo", Safe),
            ("parent", Safe),
            ("children", Safe),
            ("ancestors", Safe),
            ("version", Safe),
        ],
    ),
    ("OrgUnitConnection", &[("pageInfo", Safe), ("edges", Safe), ("nodes", Safe), ("totalCount", Safe)]),
    ("OrgUnitEdge", &[("node", Safe), ("cursor", Safe)]),
    ("OrgUnitGroup", &[("id", Safe), ("code", Safe), ("nameEn", Safe), ("nameMn", Safe), ("members", Safe)]),
    ("PageInfo", &[("hasPreviousPage", Safe), ("hasNextPage", Safe), ("startCursor", Safe), ("endCursor", Safe)]),
    ("Partner", &[("id", Safe), ("name", Safe), ("kind", Safe), ("units", Safe)]),
    ("PeriodRange", &[("label", Safe), ("from", Safe), ("to", Safe)]),
    (
        "Person",
        &[
            ("id", Pseudonym),
            ("household", Safe),
            ("orgUnit", Safe),
            ("givenName", Direct),
            ("familyName", Direct),
            ("sex", Safe),
            ("birthDate", Direct),
            ("birthMonth", Safe),
            ("birthDateEstimated", Safe),
            ("ageMonths", AgeMonths),
            ("lifeStage", Safe),
            ("relationToHead", Safe),
            ("registryNumber", Direct),
            ("phone", Direct),
            ("disability", Special),
            ("dateOfDeath", Direct),
            ("pregnancies", Safe),
            // Empty for everyone who does not work on the child's cases (de-identified callers
            // included): `access::cases_condition`.
            ("protectionCases", Safe),
            ("serviceRecords", Safe),
            ("growthMeasurements", Safe),
            ("immunisations", Safe),
            ("dueServices", Safe),
            ("growthChart", Safe),
            ("milestones", Safe),
            ("version", Safe),
            ("createdAt", EventTime),
            ("updatedAt", EventTime),
        ],
    ),
    ("PersonConnection", &[("pageInfo", Records), ("edges", Records), ("nodes", Records), ("totalCount", Count)]),
    ("PersonEdge", &[("node", Safe), ("cursor", Safe)]),
    ("PopulationImport", &[("imported", Safe), ("replaced", Safe)]),
    (
        "Pregnancy",
        &[
            ("id", Pseudonym),
            ("mother", Safe),
            ("lastMenstrualPeriod", EventDate),
            ("expectedDeliveryDate", EventDate),
            ("registeredOn", EventDate),
            ("gestationWeeks", Withheld),
            // Derived from the coarsened dates on a coarsened reference day, as lifeStage is.
            ("status", Safe),
            ("outcome", Safe),
            // A live birth's outcome date is its children's birth date.
            ("outcomeDate", EventDate),
            ("deliveryPlace", Safe),
            ("attendant", Safe),
            ("skilledAttendance", Safe),
            ("children", Safe),
            ("serviceRecords", Safe),
            ("version", Safe),
        ],
    ),
    ("ProjectPartner", &[("partner", Safe), ("role", Safe)]),
    (
        "ProjectReport",
        &[
            ("id", Safe),
            ("reportedOn", Safe),
            ("progressPercent", Safe),
            ("narrative", Safe),
            ("householdsReached", Safe),
            ("peopleReached", Safe),
        ],
    ),
    (
        "ProjectTotals",
        &[
            ("budgetMnt", Safe),
            ("byFunder", Safe),
            ("householdsLinked", Count),
            ("peopleLinked", Count),
            ("householdsReported", Safe),
            ("peopleReported", Safe),
        ],
    ),
    (
        "ProjectTransition",
        &[("fromStatus", Safe), ("toStatus", Safe), ("byUserId", Safe), ("at", Safe), ("note", Safe)],
    ),
    // Referrals are for identified callers only (the store refuses the others); classed as the
    // records about people they are.
    (
        "Referral",
        &[
            ("id", Pseudonym),
            ("version", Safe),
            ("status", Safe),
            ("need", Safe),
            ("serviceType", Safe),
            ("urgency", Safe),
            ("sentOn", EventDate),
            ("dueBy", EventDate),
            ("overdue", Safe),
            ("reason", Direct),
            ("raisedBy", Safe),
            ("raisedById", Pseudonym),
            ("fromOrgUnit", Safe),
            ("toOrgUnit", Safe),
            ("toPartner", Safe),
            ("provider", Withheld),
            ("sentBy", Withheld),
            ("closeReason", Safe),
            ("answerNote", Direct),
            ("completedOn", EventDate),
            ("endedOn", EventDate),
            ("completedBy", Safe),
            ("subject", Safe),
            ("person", Safe),
            ("household", Safe),
            ("steps", Safe),
            ("createdAt", EventTime),
            ("updatedAt", EventTime),
        ],
    ),
    ("ReferralConnection", &[("pageInfo", Records), ("edges", Records), ("nodes", Records), ("totalCount", Count)]),
    ("ReferralEdge", &[("node", Safe), ("cursor", Safe)]),
    (
        "ReferralStep",
        &[("fromStatus", Safe), ("toStatus", Safe), ("byUserId", Withheld), ("at", EventTime), ("note", Direct)],
    ),
    // Protection cases are for their case workers, supervisors and administrators only (the
    // store refuses everyone else); classed as the records about a child they are.
    (
        "ProtectionCase",
        &[
            ("id", Pseudonym),
            ("version", Safe),
            ("status", Safe),
            ("concern", Safe),
            ("riskLevel", Safe),
            ("summary", Special),
            ("openedOn", EventDate),
            ("reviewDueOn", EventDate),
            ("reviewOverdue", Safe),
            ("closedOn", EventDate),
            ("closeReason", Safe),
            ("orgUnit", Safe),
            ("caseWorkerId", Pseudonym),
            ("openedBy", Withheld),
            ("transferToUserId", Withheld),
            ("transferToOrgUnit", Safe),
            ("transferNote", Special),
            ("child", Safe),
            ("person", Safe),
            ("actions", Safe),
            ("steps", Safe),
            ("createdAt", EventTime),
            ("updatedAt", EventTime),
        ],
    ),
    (
        "ProtectionCaseAction",
        &[("id", Pseudonym), ("description", Special), ("dueOn", EventDate), ("doneOn", EventDate), ("overdue", Safe)],
    ),
    (
        "ProtectionCaseConnection",
        &[("pageInfo", Records), ("edges", Records), ("nodes", Records), ("totalCount", Count)],
    ),
    ("ProtectionCaseEdge", &[("node", Safe), ("cursor", Safe)]),
    (
        "ProtectionCaseStep",
        &[("step", Safe), ("byUserId", Withheld), ("at", EventTime), ("riskLevel", Safe), ("note", Special)],
    ),
    (
        "ReferredPerson",
        &[
            ("givenName", Direct),
            ("familyName", Direct),
            ("sex", Safe),
            ("ageYears", Safe),
            ("ageMonths", AgeMonths),
            ("householdAddress", Direct),
            ("orgUnit", Safe),
        ],
    ),
    (
        "ScheduleRule",
        &[
            ("code", Safe),
            ("serviceTypeCode", Safe),
            ("kind", Safe),
            ("pattern", Safe),
            ("anchor", Safe),
            ("unit", Safe),
            ("startAge", Safe),
            ("dueAge", Safe),
            ("endAge", Safe),
            ("interval", Safe),
            ("graceDays", Safe),
            ("lifeStageCode", Safe),
            ("nameEn", Safe),
            ("nameMn", Safe),
        ],
    ),
    (
        "ServiceRecord",
        &[
            ("id", Pseudonym),
            ("serviceType", Safe),
            ("person", Safe),
            ("household", Safe),
            ("pregnancy", Safe),
            ("date", EventDate),
            ("orgUnit", Safe),
            ("provider", Withheld),
            ("recordedBy", Withheld),
            ("note", Direct),
            ("growthMeasurement", Safe),
            ("immunisation", Safe),
            ("enrolment", Safe),
            ("attendance", Safe),
            ("hivKnowledge", Safe),
            ("milestoneChecks", Safe),
            ("version", Safe),
            ("createdAt", EventTime),
        ],
    ),
    (
        "ServiceType",
        &[
            ("id", Safe),
            ("code", Safe),
            ("sector", Safe),
            ("lifeStageCode", Safe),
            ("nameEn", Safe),
            ("nameMn", Safe),
            ("minAgeMonths", Safe),
            ("maxAgeMonths", Safe),
            ("targetGroup", Safe),
            ("unit", Safe),
            ("detailKind", Safe),
        ],
    ),
    ("Session", &[("accessToken", Safe), ("refreshToken", Safe), ("expiresIn", Safe), ("user", Safe)]),
    ("SyncError", &[("code", Safe), ("message", Safe), ("fields", Safe)]),
    ("SyncFieldError", &[("path", Safe), ("message", Safe)]),
    (
        "SyncItemResult",
        &[
            ("index", Safe),
            ("id", Pseudonym),
            ("kind", Safe),
            ("status", Safe),
            ("version", Safe),
            ("record", Safe),
            ("error", Safe),
        ],
    ),
    ("SyncPushResult", &[("committed", Safe), ("dryRun", Safe), ("summary", Safe), ("items", Safe)]),
    (
        "SyncSummary",
        &[
            ("total", Safe),
            ("created", Safe),
            ("unchanged", Safe),
            ("updated", Safe),
            ("conflicts", Safe),
            ("rejected", Safe),
            ("notApplied", Safe),
        ],
    ),
    // Staff accounts, not the programme's people.
    (
        "User",
        &[
            ("id", Safe),
            ("email", Safe),
            ("displayName", Safe),
            ("active", Safe),
            ("partnerId", Safe),
            ("roles", Safe),
            ("scopes", Safe),
        ],
    ),
    ("UserScope", &[("orgUnit", Safe), ("kind", Safe)]),
    // The root fields that answer records one by one by their own argument (the lists do it
    // through their connection's rows).
    ("Query", &[("familyAssessment", Records)]),
];

type Inputs = &'static [(&'static str, In)];

/// Every argument of a field, as `Type.field`; only those with an argument are listed. Root
/// fields' access (which roles may call them) is decided in the store, not here.
pub static ARGUMENTS: &[(&str, Inputs)] = &[
    ("Person.ageMonths", &[("asOf", In::ReferenceDay)]),
    ("Person.lifeStage", &[("asOf", In::ReferenceDay)]),
    ("Person.dueServices", &[("asOf", In::ReferenceDay)]),
    ("Person.growthChart", &[("indicator", In::Safe), ("asOf", In::ReferenceDay)]),
    ("Person.milestones", &[("asOf", In::ReferenceDay)]),
    ("Pregnancy.gestationWeeks", &[("asOf", In::ReferenceDay)]),
    ("Pregnancy.status", &[("asOf", In::ReferenceDay)]),
    ("Enrolment.currentGrade", &[("asOf", In::ReferenceDay)]),
    ("Query.orgUnit", &[("id", In::Safe)]),
    ("Query.orgUnitByCode", &[("code", In::Safe)]),
    ("Query.orgUnits", &[("parentId", In::Safe), ("level", In::Safe), ("first", In::Safe), ("after", In::Safe)]),
    (
        "Query.households",
        &[("filter", In::Safe), ("where", In::Safe), ("orderBy", In::Safe), ("first", In::Safe), ("after", In::Safe)],
    ),
    ("Query.household", &[("id", In::Safe)]),
    (
        "Query.people",
        &[("filter", In::Safe), ("where", In::Safe), ("orderBy", In::Safe), ("first", In::Safe), ("after", In::Safe)],
    ),
    ("Query.person", &[("id", In::Identifying)]),
    ("Query.serviceTypes", &[("lifeStage", In::Safe), ("sector", In::Safe)]),
    ("Query.growthZScores", &[("input", In::Safe)]),
    (
        "Query.dueList",
        &[
            ("orgUnitId", In::Safe),
            ("asOf", In::ReferenceDay),
            ("withinDays", In::Safe),
            ("kinds", In::Safe),
            ("first", In::Safe),
            ("after", In::Safe),
        ],
    ),
    ("Query.node", &[("id", In::Safe)]),
    ("Query.nodes", &[("ids", In::Safe)]),
    ("Query.auditLog", &[("filter", In::Safe), ("first", In::Safe), ("after", In::Safe)]),
    ("Query.changes", &[("since", In::Safe), ("first", In::Safe)]),
    ("Query.assessmentInstrument", &[("version", In::Safe)]),
    ("Query.familyAssessment", &[("id", In::Safe)]),
    ("Query.assessmentSummary", &[("orgUnitId", In::Safe), ("period", In::Safe)]),
    (
        "Query.communityProjects",
        &[("filter", In::Safe), ("orderBy", In::Safe), ("first", In::Safe), ("after", In::Safe)],
    ),
    ("Query.communityProject", &[("id", In::Safe)]),
    ("Query.referrals", &[("filter", In::Safe), ("first", In::Safe), ("after", In::Safe)]),
    ("Query.referral", &[("id", In::Safe)]),
    ("Query.protectionCases", &[("filter", In::Safe), ("first", In::Safe), ("after", In::Safe)]),
    ("Query.protectionCase", &[("id", In::Safe)]),
    (
        "Query.coverage",
        &[
            ("indicator", In::Safe),
            ("orgUnitId", In::Safe),
            ("period", In::Safe),
            ("groupBy", In::Safe),
            ("orgUnitLevel", In::Safe),
            ("denominator", In::Safe),
        ],
    ),
    (
        "Query.aggregate",
        &[
            ("entity", In::Safe),
            ("orgUnitId", In::Safe),
            ("filter", In::Safe),
            ("groupBy", In::Safe),
            ("orgUnitLevel", In::Safe),
            ("measures", In::Safe),
            ("asOf", In::ReferenceDay),
        ],
    ),
];

/// Every field of the input types that reads take.
pub static INPUT_FIELDS: &[(&str, Inputs)] = &[
    (
        "AggregateFilter",
        &[("person", In::Safe), ("household", In::Safe), ("serviceRecord", In::Safe), ("growthMeasurement", In::Safe)],
    ),
    (
        "AuditFilter",
        &[
            ("entity", In::Safe),
            ("entityId", In::Safe),
            ("userId", In::Safe),
            ("action", In::Safe),
            ("from", In::Safe),
            ("to", In::Safe),
        ],
    ),
    ("CodeCondition", &[("eq", In::Safe), ("in", In::Safe)]),
    // Its bounds take the class of the field it filters (e.g. `PersonWhere.birthDate`).
    ("DateCondition", &[("eq", In::Safe), ("gt", In::Safe), ("gte", In::Safe), ("lt", In::Safe), ("lte", In::Safe)]),
    ("FloatCondition", &[("gt", In::Safe), ("gte", In::Safe), ("lt", In::Safe), ("lte", In::Safe)]),
    (
        "GrowthInput",
        &[
            ("sex", In::Safe),
            ("ageDays", In::Safe),
            ("birthDate", In::Safe),
            ("measuredOn", In::Safe),
            ("weightKg", In::Safe),
            ("lengthHeightCm", In::Safe),
            ("position", In::Safe),
            ("oedema", In::Safe),
        ],
    ),
    (
        "GrowthMeasurementWhere",
        &[
            ("and", In::Safe),
            ("or", In::Safe),
            ("not", In::Safe),
            ("measuredOn", In::WholeMonths),
            ("ageMonths", In::Safe),
            ("haz", In::HalfSd),
            ("whz", In::HalfSd),
            ("waz", In::HalfSd),
            ("flagged", In::Safe),
        ],
    ),
    (
        "HouseholdFilter",
        &[("orgUnitId", In::Safe), ("dwelling", In::Safe), ("isHerder", In::Safe), ("migrantStatus", In::Safe)],
    ),
    ("HouseholdOrder", &[("field", In::Safe), ("direction", In::Safe)]),
    (
        "HouseholdWhere",
        &[
            ("and", In::Safe),
            ("or", In::Safe),
            ("not", In::Safe),
            ("orgUnit", In::Safe),
            ("dwelling", In::Safe),
            ("isHerder", In::Safe),
            ("migrantStatus", In::Safe),
            ("registeredOn", In::WholeMonths),
            ("urbanRural", In::Safe),
            ("address", In::Identifying),
            ("hasMember", In::Safe),
        ],
    ),
    (
        "IntCondition",
        &[("eq", In::Safe), ("in", In::Safe), ("gt", In::Safe), ("gte", In::Safe), ("lt", In::Safe), ("lte", In::Safe)],
    ),
    ("OrgUnitCondition", &[("under", In::Safe), ("in", In::Safe)]),
    (
        "PersonFilter",
        &[
            ("orgUnitId", In::Safe),
            ("householdId", In::Identifying),
            ("sex", In::Safe),
            ("lifeStage", In::Safe),
            ("asOf", In::ReferenceDay),
            ("bornFrom", In::WholeMonths),
            ("bornTo", In::WholeMonths),
            ("name", In::Identifying),
            ("alive", In::Safe),
        ],
    ),
    ("PersonOrder", &[("field", In::Safe), ("direction", In::Safe)]),
    (
        "PersonWhere",
        &[
            ("and", In::Safe),
            ("or", In::Safe),
            ("not", In::Safe),
            ("orgUnit", In::Safe),
            ("sex", In::Safe),
            ("birthDate", In::WholeMonths),
            ("ageMonths", In::Safe),
            ("ageYears", In::Safe),
            ("name", In::Identifying),
            ("alive", In::Safe),
            // The filter counts people with a difficulty; the answer is a count or a list of
            // rows that show none.
            ("disability", In::Safe),
            ("household", In::Safe),
            ("received", In::Safe),
        ],
    ),
    (
        "ProtectionCaseFilter",
        &[
            ("orgUnitId", In::Safe),
            ("status", In::Safe),
            ("assignedToMe", In::Safe),
            ("transferPending", In::Safe),
            ("reviewOverdueOn", In::ReferenceDay),
        ],
    ),
    (
        "ReferralFilter",
        &[
            ("orgUnitId", In::Safe),
            ("direction", In::Safe),
            ("status", In::Safe),
            ("overdueOn", In::ReferenceDay),
            ("personId", In::Identifying),
        ],
    ),
    (
        "ProjectFilter",
        &[
            ("orgUnitId", In::Safe),
            ("area", In::Safe),
            ("status", In::Safe),
            ("partnerId", In::Safe),
            ("period", In::Safe),
        ],
    ),
    ("ProjectOrder", &[("field", In::Safe), ("direction", In::Safe)]),
    (
        "ServiceReceived",
        &[("services", In::Safe), ("from", In::WholeMonths), ("to", In::WholeMonths), ("withinDays", In::DaysBack)],
    ),
    (
        "ServiceRecordWhere",
        &[
            ("and", In::Safe),
            ("or", In::Safe),
            ("not", In::Safe),
            ("service", In::Safe),
            ("serviceDate", In::WholeMonths),
            ("orgUnit", In::Safe),
        ],
    ),
    ("SexCondition", &[("eq", In::Safe), ("in", In::Safe)]),
];

/// Sort keys: what a de-identified caller may order a list by.
pub static SORT_KEYS: &[(&str, Inputs)] = &[
    // An order by a day (and its cursors) tells days apart: de-identified callers sort by
    // `Safe` keys only.
    (
        "PersonSort",
        &[
            ("ID", In::Safe),
            ("BIRTH_DATE", In::WholeMonths),
            ("FAMILY_NAME", In::Identifying),
            ("GIVEN_NAME", In::Identifying),
        ],
    ),
    ("HouseholdSort", &[("ID", In::Safe), ("REGISTERED_ON", In::WholeMonths)]),
    ("ProjectSort", &[("ID", In::Safe), ("CREATED_AT", In::Safe), ("TITLE", In::Safe)]),
];

/// The input types only writes take (every field `In::Write`, as every argument of a
/// `Mutation` field): analysts cannot write.
pub static WRITE_INPUTS: &[&str] = &[
    "AssessmentActionInput",
    "AssessmentAnswerInput",
    "AssessmentFollowUpInput",
    "BudgetLineInput",
    "ConsentInput",
    "CorrectGrowthMeasurementInput",
    "CreateHouseholdInput",
    "CreateUserInput",
    "EndEnrolmentInput",
    "EnrolmentEndInput",
    "MilestoneCheckItemInput",
    "AnswerReferralInput",
    "CaseActionInput",
    "OpenProtectionCaseInput",
    "ProtectionCaseChangeInput",
    "UpdateProtectionCaseInput",
    "ProjectReportInput",
    "ReferralAnswerItemInput",
    "SendReferralInput",
    "ProposeCommunityProjectInput",
    "RecordAttendanceInput",
    "RecordEnrolmentInput",
    "RecordFamilyAssessmentInput",
    "RecordGrowthMeasurementInput",
    "RecordHivKnowledgeInput",
    "RecordImmunisationInput",
    "RecordMilestoneCheckInput",
    "RecordPregnancyOutcomeInput",
    "RecordServiceInput",
    "RegisterPersonInput",
    "RegisterPregnancyInput",
    "SyncItemInput",
    "SyncPayloadInput",
    "UpdateHouseholdInput",
    "UpdatePersonInput",
    "UpdateUserInput",
];

static OUTPUT_INDEX: LazyLock<HashMap<(&'static str, &'static str), Out>> =
    LazyLock::new(|| OUTPUT.iter().flat_map(|(t, fs)| fs.iter().map(move |(f, c)| ((*t, *f), *c))).collect());

/// The class of a field of an object type; `None` for a field without one (a test keeps
/// there being none).
pub fn output(type_name: &str, field: &str) -> Option<Out> {
    let class = OUTPUT_INDEX.get(&(type_name, field)).copied();
    if matches!(type_name, "Query" | "Mutation") {
        // Root fields answer objects, whose fields are classed; who may call them is the
        // store's access rules, but for the few declared here.
        return class.or(Some(Safe));
    }
    class
}

/// The class a field is shown by; a field without one is withheld (the schema test names it).
pub fn class_of(type_name: &str, field: &str) -> Out {
    output(type_name, field).unwrap_or(Withheld)
}

/// The class of an input field, an argument (`Type.field`) or a sort key.
pub fn input(type_name: &str, field: &str) -> Option<In> {
    if WRITE_INPUTS.contains(&type_name) || type_name.starts_with("Mutation.") {
        return Some(In::Write);
    }
    [INPUT_FIELDS, ARGUMENTS, SORT_KEYS]
        .iter()
        .flat_map(|t| t.iter())
        .find(|(t, _)| *t == type_name)
        .and_then(|(_, fs)| fs.iter().find(|(f, _)| *f == field))
        .map(|(_, c)| *c)
}

/// What a de-identified caller gets of a value of class `class`; identified callers get the
/// value itself. `pseudonym` maps a real id to the caller's pseudonym.
pub fn shown(class: Out, value: Value, pseudonym: impl Fn(Uuid) -> Uuid) -> Value {
    match (class, value) {
        (_, Value::Null) => Value::Null,
        (Safe | AgeMonths | Records | Count, v) => v,
        (Direct | Special | Withheld, _) => Value::Null,
        (Pseudonym, Value::String(s)) => match Uuid::parse_str(&s) {
            Ok(id) => Value::String(pseudonym(id).to_string()),
            Err(_) => Value::Null,
        },
        (EventDate, Value::String(s)) => match s.parse::<NaiveDate>() {
            Ok(d) => Value::String(month_start(d).to_string()),
            Err(_) => Value::Null,
        },
        (EventTime, Value::String(s)) => match s.parse::<chrono::DateTime<chrono::Utc>>() {
            Ok(t) => Value::String(format!("{}T00:00:00Z", month_start(t.date_naive()))),
            Err(_) => Value::Null,
        },
        (Days, Value::Number(n)) => match n.as_i64() {
            Some(days) => Value::from(whole_months_in_days(days)),
            None => Value::Null,
        },
        (ZScore, Value::Number(n)) => match n.as_f64() {
            Some(z) => Value::from(half_sd_floor(z)),
            None => Value::Null,
        },
        // A list of such values (none today) or a shape the class does not know: nothing.
        _ => Value::Null,
    }
}

/// The first day of `d`'s month.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("every month has a first day")
}

/// The last day of `d`'s month.
pub fn month_end(d: NaiveDate) -> NaiveDate {
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    next.and_then(|n| n.pred_opt()).unwrap_or(d)
}

/// `days` as its whole months (of 30.4375 days, WHO's month), back in days.
pub fn whole_months_in_days(days: i64) -> i64 {
    // In quarter-days, to stay in integers: 30.4375 days = 121.75 quarter-days = 487/16 days.
    // Rounded up, so that whole months of whole months are the same.
    let months = (days * 16).div_euclid(487);
    (months * 487 + 15).div_euclid(16)
}

/// `z` floored to a multiple of 0.5.
pub fn half_sd_floor(z: f64) -> f64 {
    (z * 2.0).floor() / 2.0
}

/// Checks a z-score bound a caller gave as `ty.field` (at `path`): a multiple of 0.5 for
/// de-identified callers where it is declared so.
pub fn given_z(
    deidentified: bool,
    ty: &str,
    field: &str,
    bounds: [(&str, Option<f64>); 4],
    path: &str,
) -> ApiResult<()> {
    if deidentified && given(deidentified, ty, field)? == In::HalfSd {
        for (bound, z) in bounds {
            if let Some(z) = z
                && (z * 2.0).fract() != 0.0
            {
                let message = "de-identified callers bound z-scores by multiples of 0.5 (their z-scores are floored to the half SD)";
                return Err(ApiError::invalid(format!("{path}.{bound}"), message));
            }
        }
    }
    Ok(())
}

/// Whether a date given as a bound of class `In::WholeMonths` is whole-month: `start` bounds
/// (`gte`, `from`, `lt`) on a month's first day, end bounds (`lte`, `to`, `gt`) on its last.
pub fn whole_month_bound(d: NaiveDate, start: bool) -> bool {
    if start { d.day() == 1 } else { d == month_end(d) }
}

/// A row as ages, stages, schedules and charts are derived from it for a de-identified caller:
/// every day about the person moved to the first of its month. Coarsening the outputs alone
/// would leave comparisons of exact days (an OVERDUE a week after birth, a NEWBORN stage) to
/// tell days apart; derived from these, every answer is the same for every day of a month.
pub trait Coarsened: Clone {
    fn coarsened(&self) -> Self;
}

impl Coarsened for entity::person::Model {
    fn coarsened(&self) -> Self {
        let mut p = self.clone();
        p.birth_date = month_start(p.birth_date);
        p.date_of_death = p.date_of_death.map(month_start);
        p
    }
}

impl Coarsened for entity::pregnancy::Model {
    fn coarsened(&self) -> Self {
        let mut g = self.clone();
        g.last_menstrual_period = g.last_menstrual_period.map(month_start);
        g.expected_delivery_date = month_start(g.expected_delivery_date);
        g.registered_on = month_start(g.registered_on);
        g.outcome_date = g.outcome_date.map(month_start);
        g
    }
}

impl Coarsened for entity::immunisation::Model {
    fn coarsened(&self) -> Self {
        let mut i = self.clone();
        i.given_on = i.given_on.map(month_start);
        i
    }
}

impl Coarsened for entity::service_record::Model {
    fn coarsened(&self) -> Self {
        let mut r = self.clone();
        r.service_date = month_start(r.service_date);
        r
    }
}

impl Coarsened for entity::growth_measurement::Model {
    fn coarsened(&self) -> Self {
        let mut m = self.clone();
        m.measured_on = m.measured_on.map(month_start);
        m.age_days = m.age_days.map(|d| whole_months_in_days(d as i64) as i32);
        m
    }
}

/// The README's table of what de-identified callers get, made from the declarations (a test
/// keeps the README's copy equal to it).
pub fn readme_table() -> String {
    let outputs: [(Out, &str, &str); 11] = [
        (
            Records,
            "records about people one by one (a list's rows and page info, a record by id)",
            "ANALYST: FORBIDDEN (rows can be counted); RESEARCHER: each field as this table says",
        ),
        (
            Count,
            "count of records about people",
            "protected by the cell-key method (below): 0–4 null, others within ±3",
        ),
        (Pseudonym, "id of a record about a person or household", "a stable keyed pseudonym"),
        (Direct, "direct identifier, or free text that may name someone", "null"),
        (Special, "special category of personal data", "null"),
        (Withheld, "quasi-identifier no coarsening keeps useful", "null"),
        (EventDate, "day of an event about a person", "the first day of its month"),
        (EventTime, "instant of an event about a person", "the first instant of its month (UTC)"),
        (Days, "days about a person (an age, an interval)", "its whole months, in days (a month is 30.4375 days)"),
        (
            AgeMonths,
            "completed months of age",
            "counted on the last day of the month (the same for every birth day in it)",
        ),
        (
            ZScore,
            "z-score of a measurement",
            "floored to the half SD (−2.37 → −2.5): WHO's cut-offs keep their meaning",
        ),
    ];
    let inputs: [(In, &str, &str); 5] = [
        (In::Identifying, "search that singles people out", "FORBIDDEN"),
        (
            In::WholeMonths,
            "date bound about a person (filter or sort)",
            "whole months: `gte`/`from` a month's first day, `lte`/`to` its last (`lt` a first, `gt` a last), no `eq` (VALIDATION); no sort by it (FORBIDDEN)",
        ),
        (In::HalfSd, "z-score bound", "a multiple of 0.5 (VALIDATION)"),
        (In::DaysBack, "days back from today", "counted from the first day of that day's month"),
        (In::ReferenceDay, "day ages and statuses are computed on", "the last day of its month"),
    ];
    let mut out = String::from("| class | a de-identified caller gets | items |\n| --- | --- | --- |\n");
    let list = |items: Vec<String>| items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ");
    for (class, what, gets) in outputs {
        let items = OUTPUT
            .iter()
            .flat_map(|(t, fs)| fs.iter().filter(move |(_, c)| *c == class).map(move |(f, _)| format!("{t}.{f}")))
            .collect();
        out.push_str(&format!("| {what} | {gets} | {} |\n", list(items)));
    }
    for (class, what, gets) in inputs {
        let items = [INPUT_FIELDS, ARGUMENTS, SORT_KEYS]
            .iter()
            .flat_map(|t| t.iter())
            .flat_map(|(t, fs)| fs.iter().filter(move |(_, c)| *c == class).map(move |(f, _)| format!("{t}.{f}")))
            .collect();
        out.push_str(&format!("| {what} | {gets} | {} |\n", list(items)));
    }
    out
}

/// The class of input `ty.field` a caller gave: refused (FORBIDDEN) to de-identified callers when
/// identifying, and for a field without a class.
pub fn given(deidentified: bool, ty: &str, field: &str) -> ApiResult<In> {
    let class = input(ty, field).unwrap_or(In::Identifying);
    if deidentified && class == In::Identifying {
        return Err(ApiError::Forbidden);
    }
    Ok(class)
}

/// Checks a day a caller gave as bound `ty.field` (at `path`): a start bound (`gte`, `from`,
/// `lt`) or an end bound; de-identified callers give whole months where it is declared so.
pub fn given_day(deidentified: bool, ty: &str, field: &str, day: NaiveDate, start: bool, path: &str) -> ApiResult<()> {
    if given(deidentified, ty, field)? == In::WholeMonths && deidentified && !whole_month_bound(day, start) {
        let day = if start { "the first day of a month" } else { "the last day of a month" };
        return Err(ApiError::invalid(
            path,
            format!("de-identified callers filter dates about people by whole months: this bound takes {day}"),
        ));
    }
    Ok(())
}

/// Checks the days of a date condition on `ty.field` (at `path`): no `eq` for de-identified
/// callers where whole months are declared.
pub fn given_days(
    deidentified: bool,
    ty: &str,
    field: &str,
    eq: Option<NaiveDate>,
    bounds: [(&str, Option<NaiveDate>, bool); 4],
    path: &str,
) -> ApiResult<()> {
    if eq.is_some() && deidentified && given(deidentified, ty, field)? == In::WholeMonths {
        let message = "de-identified callers filter dates about people by whole months: no `eq`, give `gte` the first day of a month and `lte` its last";
        return Err(ApiError::invalid(format!("{path}.eq"), message));
    }
    for (bound, day, start) in bounds {
        if let Some(day) = day {
            given_day(deidentified, ty, field, day, start, &format!("{path}.{bound}"))?;
        }
    }
    Ok(())
}

/// The executor's side of the declarations: every field's value goes through [`shown`] for
/// de-identified callers, and a withheld field's resolver is not even run.
pub struct Guard;

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardOf { reader: OnceLock::new() })
    }
}

struct GuardOf {
    /// How much the request's caller reads; set at its first field.
    reader: OnceLock<Reader>,
}

#[async_trait::async_trait]
impl Extension for GuardOf {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let data = ctx.data::<crate::graphql::RequestData>().ok();
        let reader = *self.reader.get_or_init(|| data.map_or(Reader::Tables, |d| d.store.reader()));
        if reader == Reader::Identified
            || info.is_for_introspection
            || info.parent_type.starts_with('[')
            || info.name.starts_with("__")
        {
            return next.run(ctx, info).await;
        }
        let class = class_of(info.parent_type, info.name);
        if let Err(e) = readable(reader, class) {
            // Field names never start with a digit: a number is a list index.
            let path = (info.path_node.to_string_vec().into_iter())
                .map(|s| match s.parse() {
                    Ok(i) => async_graphql::PathSegment::Index(i),
                    Err(_) => async_graphql::PathSegment::Field(s),
                })
                .collect();
            let e = async_graphql::Error::from(e);
            let mut refused = async_graphql::ServerError::new(e.message, None).with_path(path);
            refused.extensions = e.extensions;
            return Err(refused);
        }
        if class.withheld() {
            return Ok(Some(Value::Null));
        }
        let value = next.run(ctx, info).await?;
        Ok(value.map(|v| match data {
            Some(d) => shown(class, v, |id| d.store.public_id(id)),
            None => Value::Null,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn dates_become_their_month_and_days_whole_months() {
        let same = |v: Value| shown(EventDate, v, |i| i);
        assert_eq!(same(Value::from("2026-03-17")), Value::from("2026-03-01"));
        assert_eq!(shown(EventTime, Value::from("2026-03-17T10:11:12.5Z"), |i| i), Value::from("2026-03-01T00:00:00Z"));
        assert_eq!(whole_months_in_days(30), 0);
        assert_eq!(whole_months_in_days(31), 31);
        assert_eq!(whole_months_in_days(365), 335, "11 whole months");
        assert_eq!(whole_months_in_days(1826), 1796, "60 months are 1826.25 days");
        for days in 0..4000 {
            let whole = whole_months_in_days(days);
            assert!(whole <= days && days - whole < 31 && whole_months_in_days(whole) == whole, "{days}");
        }
        assert_eq!(shown(Direct, Value::from("Бат"), |i| i), Value::Null);
        assert_eq!(shown(Days, Value::from(45), |i| i), Value::from(31));
        assert_eq!(shown(ZScore, Value::from(-2.37), |i| i), Value::from(-2.5));
        for (z, floored) in [(-2.0, -2.0), (-1.99, -2.0), (-3.01, -3.5), (2.49, 2.0), (0.0, 0.0)] {
            assert_eq!(half_sd_floor(z), floored);
            // WHO's cut-offs: below −2 (or −3) stays below, at or above stays so.
            for cut in [-3.0, -2.0, 2.0, 3.0] {
                assert_eq!(half_sd_floor(z) < cut, z < cut, "{z} against {cut}");
            }
        }
    }

    #[test]
    fn month_bounds() {
        assert_eq!(month_end(d("2024-02-10")), d("2024-02-29"));
        assert_eq!(month_end(d("2026-12-31")), d("2026-12-31"));
        assert!(whole_month_bound(d("2026-03-01"), true) && !whole_month_bound(d("2026-03-02"), true));
        assert!(whole_month_bound(d("2026-04-30"), false) && !whole_month_bound(d("2026-04-29"), false));
    }
}
