//! The closed vocabularies of the data model (sex, org-unit level, dwelling, outcomes, ...): one
//! definition each, used as GraphQL enums and stored as their upper-case names.

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and GraphQL) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Reads a stored value; an unknown one means the database holds something the
            /// code does not know, which is a bug, not bad input.
            pub fn from_db(text: &str) -> crate::error::ApiResult<Self> {
                Self::parse(text).ok_or_else(|| crate::error::ApiError::Internal(anyhow::anyhow!(
                    concat!("unknown ", stringify!($name), " {:?} in the database"), text)))
            }
        }
    };
}

vocabulary!(
    /// A person's sex, as recorded.
    Sex {
        /// Male.
        Male => "MALE",
        /// Female.
        Female => "FEMALE",
    }
);

vocabulary!(
    /// Levels of Mongolia's administrative tree: country → region → aimag or the capital → soum or
    /// district → bag or khoroo.
    OrgUnitLevel {
        /// Mongolia as a whole: the root of the tree.
        Country => "COUNTRY",
        /// A region of the Regional Development Strategy.
        Region => "REGION",
        /// A province; its code is the statistics office's (e.g. 85 for Uvs).
        Aimag => "AIMAG",
        /// Ulaanbaatar, the capital: grouped with the aimags.
        Capital => "CAPITAL",
        /// A rural district of an aimag.
        Soum => "SOUM",
        /// A district (düüreg) of Ulaanbaatar: grouped with the soums.
        District => "DISTRICT",
        /// A subdivision of a soum, the smallest rural unit.
        Bag => "BAG",
        /// A subdivision of a district of Ulaanbaatar, the smallest urban unit: grouped with the
        /// bags.
        Khoroo => "KHOROO",
    }
);

impl OrgUnitLevel {
    /// The levels grouped as one: the capital stands beside the aimags, its districts beside
    /// soums and its khoroos beside bags (so "by aimag" over the country has 22 rows).
    pub fn with_equivalent(self) -> &'static [&'static str] {
        match self {
            OrgUnitLevel::Aimag | OrgUnitLevel::Capital => &["AIMAG", "CAPITAL"],
            OrgUnitLevel::Soum | OrgUnitLevel::District => &["SOUM", "DISTRICT"],
            OrgUnitLevel::Bag | OrgUnitLevel::Khoroo => &["BAG", "KHOROO"],
            OrgUnitLevel::Country => &["COUNTRY"],
            OrgUnitLevel::Region => &["REGION"],
        }
    }
}

vocabulary!(
    /// The kind of dwelling a household lives in.
    Dwelling {
        /// A ger (the felt tent of Mongolia).
        Ger => "GER",
        /// A house.
        House => "HOUSE",
        /// A flat in an apartment building.
        Apartment => "APARTMENT",
        /// Any other dwelling.
        Other => "OTHER",
    }
);

vocabulary!(
    /// Whether a household lives where it is registered, or has moved.
    MigrantStatus {
        /// A resident household of its unit (the default).
        Resident => "RESIDENT",
        /// Moved into its unit from elsewhere.
        InMigrant => "IN_MIGRANT",
        /// Moves in and out with the seasons.
        SeasonalMigrant => "SEASONAL_MIGRANT",
        /// Moved in without registering its residence.
        UnregisteredMigrant => "UNREGISTERED_MIGRANT",
    }
);

vocabulary!(
    /// How a person is related to the head of their household.
    RelationToHead {
        /// The head of the household.
        Head => "HEAD",
        /// The head's spouse or partner.
        Spouse => "SPOUSE",
        /// A child of the head.
        Child => "CHILD",
        /// A grandchild of the head.
        Grandchild => "GRANDCHILD",
        /// A parent of the head.
        Parent => "PARENT",
        /// A brother or sister of the head.
        Sibling => "SIBLING",
        /// Another relative of the head.
        OtherRelative => "OTHER_RELATIVE",
        /// Lives in the household, not related to the head.
        NotRelated => "NOT_RELATED",
    }
);

vocabulary!(
    /// Washington Group functional domains; null on a person means none recorded.
    Disability {
        /// Difficulty seeing.
        Seeing => "SEEING",
        /// Difficulty hearing.
        Hearing => "HEARING",
        /// Difficulty walking or climbing steps.
        Mobility => "MOBILITY",
        /// Difficulty remembering or concentrating.
        Cognition => "COGNITION",
        /// Difficulty with self-care, such as washing or dressing.
        SelfCare => "SELF_CARE",
        /// Difficulty communicating: understanding or being understood.
        Communication => "COMMUNICATION",
        /// Difficulties in more than one domain.
        Multiple => "MULTIPLE",
    }
);

vocabulary!(
    /// How a pregnancy ended. LIVE_BIRTH and STILLBIRTH are births: they need a delivery place and
    /// an attendant, and only a LIVE_BIRTH has children.
    PregnancyOutcome {
        /// A child (or children) born alive.
        LiveBirth => "LIVE_BIRTH",
        /// A child born dead.
        Stillbirth => "STILLBIRTH",
        /// The pregnancy was lost spontaneously.
        Miscarriage => "MISCARRIAGE",
        /// The pregnancy was ended by an induced abortion.
        InducedAbortion => "INDUCED_ABORTION",
        /// An ectopic pregnancy.
        Ectopic => "ECTOPIC",
    }
);

vocabulary!(
    /// Where a birth took place.
    DeliveryPlace {
        /// In a health facility.
        Facility => "FACILITY",
        /// At home.
        Home => "HOME",
        /// On the way to a facility.
        EnRoute => "EN_ROUTE",
    }
);

vocabulary!(
    /// Who attended a delivery; DOCTOR and NURSE_MIDWIFE count as skilled.
    BirthAttendant {
        /// A doctor (skilled).
        Doctor => "DOCTOR",
        /// A nurse or midwife (skilled).
        NurseMidwife => "NURSE_MIDWIFE",
        /// Someone else: not a skilled attendant.
        Other => "OTHER",
        /// Nobody attended the delivery.
        None => "NONE",
    }
);

vocabulary!(
    /// How length/height was measured. WHO expects length lying under 2 years and height standing
    /// from 2; a measurement taken the other way is corrected by 0.7 cm.
    MeasurementPosition {
        /// Recumbent length, lying down.
        Lying => "LYING",
        /// Standing height.
        Standing => "STANDING",
    }
);

vocabulary!(
    /// The sector a service type belongs to.
    Sector {
        /// Health: antenatal and postnatal care, immunisation, development checks, HIV/STI
        /// prevention.
        Health => "HEALTH",
        /// Nutrition: growth monitoring, micronutrients, breastfeeding counselling, home gardens.
        Nutrition => "NUTRITION",
        /// Education: kindergarten, outreach ECD, school, non-formal education, life skills.
        Education => "EDUCATION",
        /// Child protection: birth registration, protection cases and referrals.
        Protection => "PROTECTION",
        /// Water, sanitation and hygiene of a household.
        Wash => "WASH",
        /// Social services to families, such as parent and caregiver training.
        Social => "SOCIAL",
        /// Children's and young people's participation.
        Participation => "PARTICIPATION",
    }
);

vocabulary!(
    /// Who a service is for; checked on the day the service is recorded as given.
    TargetGroup {
        /// A child: under 19 years (to 18 years 11 months).
        Child => "CHILD",
        /// A woman with an open pregnancy on the day.
        PregnantWoman => "PREGNANT_WOMAN",
        /// A woman within 42 days after the end of her latest pregnancy.
        Mother => "MOTHER",
        /// An adolescent or young person: under 25 years (to 24 years 11 months).
        YoungPerson => "YOUNG_PERSON",
        /// A parent or other caregiver: 15 years or older.
        Caregiver => "CAREGIVER",
        /// A household, not a person: recorded with a `householdId`.
        Household => "HOUSEHOLD",
        /// Anyone.
        AnyPerson => "ANY_PERSON",
    }
);

vocabulary!(
    /// Which typed detail a service record of this type carries, and so which mutation records it.
    DetailKind {
        /// No detail: `recordService`.
        None => "NONE",
        /// A growth measurement: `recordGrowthMeasurement`.
        Growth => "GROWTH",
        /// An antigen and dose: `recordImmunisation`.
        Immunisation => "IMMUNISATION",
        /// An institution and its end: `recordEnrolment`.
        Enrolment => "ENROLMENT",
        /// Days present over a period: `recordAttendance`.
        Attendance => "ATTENDANCE",
        /// Development milestones checked: `recordMilestoneCheck`.
        Milestones => "MILESTONES",
        /// A pregnancy's outcome: `recordPregnancyOutcome`, on the pregnancy (no service record).
        Outcome => "OUTCOME",
        /// The five answers of an HIV knowledge assessment: `recordHivKnowledge`.
        HivKnowledge => "HIV_KNOWLEDGE",
        /// A child-protection case, seen on a need-to-know basis: `openProtectionCase` (no
        /// service record).
        ProtectionCase => "PROTECTION_CASE",
    }
);

vocabulary!(
    /// An answer to one of the HIV knowledge questions.
    KnowledgeAnswer {
        /// Yes.
        Yes => "YES",
        /// No.
        No => "NO",
        /// The person does not know (never a right answer).
        DontKnow => "DONT_KNOW",
    }
);

vocabulary!(
    /// Why an enrolment ended.
    EnrolmentEndReason {
        /// The child completed the kindergarten, school level or programme.
        Completed => "COMPLETED",
        /// The child dropped out.
        DroppedOut => "DROPPED_OUT",
        /// The child moved to another institution.
        Transferred => "TRANSFERRED",
        /// The child's family moved away.
        Moved => "MOVED",
        /// The child died.
        Died => "DIED",
    }
);

vocabulary!(
    /// What a user may do; see the role table in README.md ("Access control").
    Role {
        /// Reads and writes everything; users, partners, erasure, the audit log, population
        /// estimates; approves and cancels community projects.
        Admin => "ADMIN",
        /// Statistical tables across the country: coverage, aggregates, assessment summaries and
        /// the counts of lists, protected by the cell-key method; no records one by one (their
        /// rows could be counted exactly); writes nothing. Unless the user also holds a role
        /// that reads identifiable data.
        Analyst => "ANALYST",
        /// Everything an analyst reads, and de-identified records one by one (microdata): lists
        /// of people and households with pseudonymous ids and coarsened dates. Rows can be
        /// counted, so grant it only under a data-sharing agreement. Writes nothing.
        Researcher => "RESEARCHER",
        /// Staff of a partner organisation: reads the units the organisation is assigned to and
        /// the projects it funds or implements; writes households, people, pregnancies, consent,
        /// services and family assessments in its capture scope (if it has one), and works on its
        /// projects.
        Partner => "PARTNER",
        /// Reads its capture and view scopes; writes households, people, pregnancies, consent,
        /// services and family assessments in its capture scope; proposes and works on projects
        /// there.
        FieldWorker => "FIELD_WORKER",
        /// A service provider (a facility's staff): reads its scopes, records services in its
        /// capture scope.
        Provider => "PROVIDER",
        /// A child-protection case worker: reads its scopes; opens protection cases for children
        /// of its capture scope and works on the cases assigned to it (only those).
        CaseWorker => "CASE_WORKER",
        /// A case-management supervisor: reads its scopes; sees and works on every protection
        /// case managed in its capture scope, assigns and transfers them, reopens closed ones.
        Supervisor => "SUPERVISOR",
    }
);

vocabulary!(
    /// What kind of organisation a partner is.
    PartnerKind {
        /// A non-governmental organisation.
        Ngo => "NGO",
        /// A government body.
        Government => "GOVERNMENT",
        /// An agency, such as a UN or donor agency.
        Agency => "AGENCY",
    }
);

vocabulary!(
    /// The two org-unit scopes of a user: where they may write and where they may read.
    ScopeKind {
        /// The unit's subtree is where the user may write (and read).
        Capture => "CAPTURE",
        /// The unit's subtree is where the user may read.
        View => "VIEW",
    }
);

vocabulary!(
    /// The ground on which personal data of a household is processed.
    LegalBasis {
        /// The household (or its representative) consented.
        Consent => "CONSENT",
        /// A legal obligation requires the processing.
        LegalObligation => "LEGAL_OBLIGATION",
        /// A task carried out in the public interest.
        PublicTask => "PUBLIC_TASK",
        /// To protect someone's vital interests.
        VitalInterest => "VITAL_INTEREST",
    }
);

vocabulary!(
    /// The WHO growth reference a z-score comes from: the Child Growth Standards (0-5 years) or
    /// the Growth Reference (5-19 years).
    GrowthReference {
        /// WHO Child Growth Standards (2006): ages 0 to 1826 days.
        Who2006 => "WHO_2006",
        /// WHO Growth Reference (2007): ages 1827 to 6939 days.
        Who2007 => "WHO_2007",
    }
);

vocabulary!(
    /// Stunting, wasting, underweight or thinness: below -2 SD moderate, below -3 SD severe.
    GrowthSeverity {
        /// The z-score is -2 or above.
        None => "NONE",
        /// The z-score is below -2 and not below -3.
        Moderate => "MODERATE",
        /// The z-score is below -3 (for wasting, also any oedema).
        Severe => "SEVERE",
    }
);

vocabulary!(
    /// Age-based growth indicators, charted against the WHO reference curves.
    GrowthIndicator {
        /// Weight (kg) for age.
        WeightForAge => "WEIGHT_FOR_AGE",
        /// Length or height (cm) for age.
        LengthHeightForAge => "LENGTH_HEIGHT_FOR_AGE",
        /// Body-mass index (kg/m²) for age.
        BmiForAge => "BMI_FOR_AGE",
    }
);

vocabulary!(
    /// What a due item is: the schedules the service evaluates.
    DueKind {
        /// A dose of the national immunisation schedule.
        Immunisation => "IMMUNISATION",
        /// Vitamin A, every 6 months from 6 to 59 months.
        VitaminA => "VITAMIN_A",
        /// Growth monitoring: monthly under 12 months, every 3 months at 12-23, every 6 at 24-59.
        GrowthMonitoring => "GROWTH_MONITORING",
        /// The 8 antenatal contacts of an open pregnancy.
        AntenatalCare => "ANTENATAL_CARE",
        /// The 4 postnatal contacts of a mother and of a newborn.
        PostnatalCare => "POSTNATAL_CARE",
        /// The outcome of a pregnancy past its expected date, to be recorded
        /// (`recordPregnancyOutcome`; no service record fulfils it).
        PregnancyOutcome => "PREGNANCY_OUTCOME",
        /// An open referral of the person, sent from or received by the due list's unit and due
        /// by the end of the round (`DueListEntry.referrals`; not a schedule: never in
        /// `Person.dueServices`).
        Referral => "REFERRAL",
    }
);

vocabulary!(
    /// Where a pregnancy stands on a day (`domain::pregnancy`).
    PregnancyStatus {
        /// From the last menstrual period until its outcome is due.
        Open => "OPEN",
        /// Past the expected date by the schedule's margin (42 weeks): still open, the outcome is
        /// on the due list.
        OutcomeDue => "OUTCOME_DUE",
        /// Past the schedule's second margin (48 weeks) without an outcome: no longer in the
        /// PREGNANCY stage nor on any list until the outcome is recorded.
        OutcomeUnknown => "OUTCOME_UNKNOWN",
        /// Its outcome is recorded, on or before the day.
        Ended => "ENDED",
    }
);

vocabulary!(
    /// Where a scheduled service stands on a day: GIVEN; DUE (from its due date); OVERDUE (past
    /// its grace period); UPCOMING (not yet due, or waiting for an earlier dose); MISSED (its
    /// window closed without it).
    DueStatus {
        /// Given: `givenOn` says when.
        Given => "GIVEN",
        /// Due from `dueDate`, not yet overdue.
        Due => "DUE",
        /// Past `overdueFrom` and still possible.
        Overdue => "OVERDUE",
        /// Not yet due, or waiting for an earlier dose.
        Upcoming => "UPCOMING",
        /// Its window closed (`closesOn` passed) without it.
        Missed => "MISSED",
    }
);

vocabulary!(
    /// Whether a recorded vaccine dose counts, as registries evaluate it from the dates of the
    /// child's history (`domain::dose_validity`). Every value but VALID counts for nothing.
    DoseEvaluation {
        /// Counts: given at or after the dose's minimum age and interval (less the grace
        /// period), within its maximum age.
        Valid => "VALID",
        /// Given before the dose's minimum age, less the grace period: to be repeated.
        TooEarly => "TOO_EARLY",
        /// Given before the minimum interval since the previous valid dose, less the grace
        /// period: to be repeated.
        TooSoon => "TOO_SOON",
        /// Given after the dose's maximum age.
        TooLate => "TOO_LATE",
        /// A second dose of the antigen on a day one already counts.
        SameDay => "SAME_DAY",
        /// A live injected vaccine within 28 days of another one not given the same day.
        LiveVaccineTooSoon => "LIVE_VACCINE_TOO_SOON",
        /// Given after the series was complete.
        Extra => "EXTRA",
        /// Outside the children's schedule (Td in pregnancy, an antigen without rules).
        NotEvaluated => "NOT_EVALUATED",
    }
);

impl DoseEvaluation {
    /// Given before it could count (by age or by interval): what the invalid-dose indicator
    /// counts.
    pub const GIVEN_TOO_EARLY: [DoseEvaluation; 3] =
        [DoseEvaluation::TooEarly, DoseEvaluation::TooSoon, DoseEvaluation::LiveVaccineTooSoon];
}

vocabulary!(
    /// How a schedule rule repeats: every interval within an age band, or one contact in a window.
    SchedulePattern {
        /// Due every `interval` units from `startAge` to `endAge`, counted from the last one given.
        Recurring => "RECURRING",
        /// One contact of a series, counted in [`startAge`, `endAge`] and due at `dueAge`.
        Contact => "CONTACT",
    }
);

vocabulary!(
    /// What a schedule rule's ages count from: birth, the last menstrual period of the open
    /// pregnancy, or the latest delivery.
    ScheduleAnchor {
        /// The person's birth date.
        Birth => "BIRTH",
        /// The open pregnancy's last menstrual period (expected delivery date - 280 days).
        Lmp => "LMP",
        /// The outcome date of the mother's latest birth (live birth or stillbirth).
        Delivery => "DELIVERY",
    }
);

vocabulary!(
    /// The unit of a schedule rule's ages and interval, counted in completed units.
    ScheduleUnit {
        /// Days.
        Day => "DAY",
        /// Weeks (7 days).
        Week => "WEEK",
        /// Calendar months.
        Month => "MONTH",
    }
);

vocabulary!(
    /// Domains of early childhood development checked with milestones.
    DevelopmentDomain {
        /// Gross and fine motor skills.
        Motor => "MOTOR",
        /// Language and communication.
        Language => "LANGUAGE",
        /// Social and emotional development.
        SocioEmotional => "SOCIO_EMOTIONAL",
        /// Cognitive development: learning, thinking, problem-solving.
        Cognitive => "COGNITIVE",
    }
);

vocabulary!(
    /// A milestone for one child: ACHIEVED (at some check); NOT_YET (not achieved at the last
    /// check, still within its expected window then); DELAYED (not achieved at a check after the
    /// window closed); NOT_CHECKED.
    MilestoneStatus {
        /// Found achieved at some check.
        Achieved => "ACHIEVED",
        /// Not achieved at the latest check, made by `expectedByMonths`.
        NotYet => "NOT_YET",
        /// Not achieved at the latest check, made when the child was past `expectedByMonths`.
        Delayed => "DELAYED",
        /// Never checked.
        NotChecked => "NOT_CHECKED",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_stored_name() {
        for s in OrgUnitLevel::ALL {
            assert_eq!(OrgUnitLevel::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Sex::parse("female"), None, "stored names are exact");
    }

    #[test]
    fn health_vocabularies_name_their_values_the_same_everywhere() {
        // async-graphql derives the GraphQL name from the variant: it must be the stored one.
        macro_rules! same {
            ($($t:ty),+) => {$(
                let items = <$t as async_graphql::resolver_utils::EnumType>::items();
                assert_eq!(items.len(), <$t>::ALL.len());
                for item in items {
                    assert_eq!(item.value.as_str(), item.name);
                }
            )+};
        }
        same!(
            GrowthReference,
            GrowthSeverity,
            GrowthIndicator,
            DueKind,
            DueStatus,
            PregnancyStatus,
            DoseEvaluation,
            SchedulePattern,
            ScheduleAnchor,
            ScheduleUnit,
            DevelopmentDomain,
            MilestoneStatus,
            DetailKind,
            KnowledgeAnswer,
            ReferralNeed,
            ReferralUrgency,
            ReferralStatus,
            ReferralCloseReason,
            ReferralTrigger
        );
    }
}

vocabulary!(
    /// A family assessment's answer to one indicator.
    AssessmentAnswer {
        /// The household meets the indicator.
        Yes => "YES",
        /// The household does not meet it.
        No => "NO",
        /// The indicator does not apply to the household on the day.
        NotApplicable => "NOT_APPLICABLE",
    }
);

vocabulary!(
    /// What in a household's composition on the day makes an assessment indicator apply (ages in
    /// completed months of members alive on the day).
    AppliesWhen {
        /// Every household.
        Always => "ALWAYS",
        /// A child of 0-59 months.
        ChildUnder5 => "CHILD_UNDER_5",
        /// A child of 12-23 months.
        Child12To23Months => "CHILD_12_23_MONTHS",
        /// A child of 36-71 months (3-5 years).
        Child3To5 => "CHILD_3_TO_5",
        /// A child of 72-215 months (6-17 years).
        SchoolAgeChild => "SCHOOL_AGE_CHILD",
        /// A child of 0-215 months (under 18).
        ChildUnder18 => "CHILD_UNDER_18",
        /// An adolescent of 120-215 months (10-17 years).
        Adolescent => "ADOLESCENT",
        /// A woman with an open pregnancy.
        PregnantWoman => "PREGNANT_WOMAN",
    }
);

vocabulary!(
    /// The areas community-identified projects work in (the programme's list).
    CipArea {
        /// Capacity of service providers and decision makers.
        ServiceCapacity => "SERVICE_CAPACITY",
        /// Training of parents, caregivers and volunteers.
        ParentTraining => "PARENT_TRAINING",
        /// Early childhood care and development, outreach ECD.
        EarlyChildhoodDevelopment => "EARLY_CHILDHOOD_DEVELOPMENT",
        /// Monitoring children's growth and development.
        GrowthMonitoring => "GROWTH_MONITORING",
        /// A community-based information and monitoring system.
        CommunityInformation => "COMMUNITY_INFORMATION",
        /// Micronutrient supplementation.
        Micronutrients => "MICRONUTRIENTS",
        /// Potable water and sanitation.
        WaterSanitation => "WATER_SANITATION",
        /// Non-formal education.
        NonFormalEducation => "NON_FORMAL_EDUCATION",
        /// Home and community gardening.
        Gardening => "GARDENING",
        /// An environment fit for children.
        ChildFriendlyEnvironment => "CHILD_FRIENDLY_ENVIRONMENT",
        /// HIV/AIDS and STI prevention.
        HivPrevention => "HIV_PREVENTION",
        /// Child protection.
        ChildProtection => "CHILD_PROTECTION",
        /// Child participation.
        ChildParticipation => "CHILD_PARTICIPATION",
    }
);

vocabulary!(
    /// An action agreed with a family at an assessment, followed up on later visits.
    ActionStatus {
        /// Agreed and not yet followed up (or followed up as still open).
        Open => "OPEN",
        /// Done, as found at a follow-up.
        Done => "DONE",
        /// Given up, as found at a follow-up.
        Dropped => "DROPPED",
    }
);

vocabulary!(
    /// A community-identified project's workflow: PROPOSED → APPROVED → IN_PROGRESS → COMPLETED,
    /// or CANCELLED from any of the first three.
    ProjectStatus {
        /// Proposed by the community (the status a project starts in).
        Proposed => "PROPOSED",
        /// Approved by the local government (an administrator).
        Approved => "APPROVED",
        /// Started by whoever manages it.
        InProgress => "IN_PROGRESS",
        /// Completed (final).
        Completed => "COMPLETED",
        /// Cancelled by an administrator (final).
        Cancelled => "CANCELLED",
    }
);

vocabulary!(
    /// Who pays a budget line of a project.
    FunderKind {
        /// The local government.
        LocalGovernment => "LOCAL_GOVERNMENT",
        /// UNICEF.
        Unicef => "UNICEF",
        /// A partner organisation, named by the line's `partnerId`.
        Partner => "PARTNER",
        /// The community itself.
        Community => "COMMUNITY",
        /// Any other funder.
        Other => "OTHER",
    }
);

vocabulary!(
    /// How a coverage answer is broken down: ORG_UNIT by the units one level below the chosen
    /// unit (rows placed at the unit itself form a row of their own), SEX, AGE_BAND (the
    /// standard age bands; a birth's is the mother's age), URBAN_RURAL (the
    /// settlement type of the unit a row belongs to), MONTH or QUARTER (each sub-period counted
    /// on its own, as at its last day), NEED (a referral's sector).
    CoverageDimension {
        /// By the units one level below the chosen one (or at `orgUnitLevel`).
        OrgUnit => "ORG_UNIT",
        /// By sex (not for indicators counted per birth or per household).
        Sex => "SEX",
        /// By age band: 0-5, 6-11, 12-23, 24-35, 36-47, 48-59 months, then 5-9 … 65+ years.
        AgeBand => "AGE_BAND",
        /// By the settlement type of the unit: URBAN or RURAL.
        UrbanRural => "URBAN_RURAL",
        /// By calendar month of the period (not with QUARTER).
        Month => "MONTH",
        /// By calendar quarter of the period (not with MONTH).
        Quarter => "QUARTER",
        /// By a referral's need (its sector): indicators counted per referral only.
        Need => "NEED",
    }
);

vocabulary!(
    /// The settlement type of an org unit.
    Settlement {
        /// Ulaanbaatar's districts and khoroos.
        Urban => "URBAN",
        /// Soums and bags.
        Rural => "RURAL",
    }
);

vocabulary!(
    /// What `aggregate` counts: people, households, service records (of people) or growth
    /// measurements.
    AggregateEntity {
        /// People living under the unit.
        People => "PEOPLE",
        /// Households under the unit.
        Households => "HOUSEHOLDS",
        /// Service records of people living under the unit (household services are not counted).
        ServiceRecords => "SERVICE_RECORDS",
        /// Growth measurements of people living under the unit.
        GrowthMeasurements => "GROWTH_MEASUREMENTS",
    }
);

vocabulary!(
    /// How an aggregate is broken down: ORG_UNIT (the units one level below the chosen one),
    /// SEX, AGE_BAND (people: age on `asOf`; records and measurements: age on the day),
    /// URBAN_RURAL, MONTH / QUARTER / YEAR (of the service or measurement date, a household's
    /// registration or a person's birth), SERVICE_TYPE (records), DWELLING (households).
    AggregateDimension {
        /// By the units one level below the chosen one (or at `orgUnitLevel`).
        OrgUnit => "ORG_UNIT",
        /// By sex (not for HOUSEHOLDS).
        Sex => "SEX",
        /// By age band (not for HOUSEHOLDS).
        AgeBand => "AGE_BAND",
        /// By the settlement type of the unit: URBAN or RURAL.
        UrbanRural => "URBAN_RURAL",
        /// By calendar month, `2026-07`.
        Month => "MONTH",
        /// By calendar quarter, `2026Q3`.
        Quarter => "QUARTER",
        /// By year, `2026`.
        Year => "YEAR",
        /// By service type code (SERVICE_RECORDS only).
        ServiceType => "SERVICE_TYPE",
        /// By dwelling (HOUSEHOLDS only).
        Dwelling => "DWELLING",
    }
);

vocabulary!(
    /// What `aggregate` computes per row: COUNT (rows of the entity), PEOPLE and HOUSEHOLDS
    /// (distinct), MEAN_HAZ / MEAN_WHZ / MEAN_WAZ (growth measurements, WHO-flagged values left
    /// out).
    Measure {
        /// Rows of the counted entity (the default).
        Count => "COUNT",
        /// Distinct people (not for HOUSEHOLDS).
        People => "PEOPLE",
        /// Distinct households.
        Households => "HOUSEHOLDS",
        /// Mean length/height-for-age z-score (GROWTH_MEASUREMENTS only).
        MeanHaz => "MEAN_HAZ",
        /// Mean weight-for-length/height z-score (GROWTH_MEASUREMENTS only).
        MeanWhz => "MEAN_WHZ",
        /// Mean weight-for-age z-score (GROWTH_MEASUREMENTS only).
        MeanWaz => "MEAN_WAZ",
    }
);

vocabulary!(
    /// Where a coverage denominator comes from: REGISTRY (people, births or measurements
    /// registered in the service) or POPULATION (official estimates, `importPopulation`).
    DenominatorSource {
        /// People, births or measurements registered in the service (the default).
        Registry => "REGISTRY",
        /// Official population estimates (`importPopulation`), for indicators of an age band.
        Population => "POPULATION",
    }
);

vocabulary!(
    /// The direction of a sort.
    SortDirection {
        /// Ascending: smallest, earliest or A first.
        Asc => "ASC",
        /// Descending: largest, latest or Z first.
        Desc => "DESC",
    }
);

vocabulary!(
    /// What a list of people can be ordered by (names and birth dates: identified callers only).
    PersonSort {
        /// By id (the default order).
        Id => "ID",
        /// By birth date (FORBIDDEN to callers who see data de-identified).
        BirthDate => "BIRTH_DATE",
        /// By family name (FORBIDDEN to callers who see data de-identified).
        FamilyName => "FAMILY_NAME",
        /// By given name (FORBIDDEN to callers who see data de-identified).
        GivenName => "GIVEN_NAME",
    }
);

vocabulary!(
    /// What a list of households can be ordered by.
    HouseholdSort {
        /// By id (the default order).
        Id => "ID",
        /// By registration date.
        RegisteredOn => "REGISTERED_ON",
    }
);

vocabulary!(
    /// What a list of community projects can be ordered by.
    ProjectSort {
        /// By id (the default order).
        Id => "ID",
        /// By title.
        Title => "TITLE",
        /// By when the project was proposed.
        CreatedAt => "CREATED_AT",
    }
);

vocabulary!(
    /// What a referral asks for, by sector (the programme's convergent services).
    ReferralNeed {
        /// Health care: immunisation, antenatal or postnatal care, treatment.
        Health => "HEALTH",
        /// Nutrition: growth faltering, acute malnutrition, feeding counselling.
        Nutrition => "NUTRITION",
        /// Pre-school or school: enrolment, return after dropping out.
        Education => "EDUCATION",
        /// Social welfare: benefits, the Child Money programme, food stamps.
        SocialWelfare => "SOCIAL_WELFARE",
        /// Civil registration: a birth certificate, an identity card.
        CivilRegistration => "CIVIL_REGISTRATION",
        /// Disability assessment and support.
        Disability => "DISABILITY",
        /// Child protection: the unit's child-protection team.
        ChildProtection => "CHILD_PROTECTION",
        /// Water, sanitation and hygiene: a latrine, safe water.
        Wash => "WASH",
    }
);

vocabulary!(
    /// How soon the receiver should act on a referral.
    ReferralUrgency {
        /// In the normal course.
        Routine => "ROUTINE",
        /// Within days.
        Urgent => "URGENT",
        /// At once: the child is at risk.
        Emergency => "EMERGENCY",
    }
);

vocabulary!(
    /// A referral's lifecycle: SENT → ACCEPTED or DECLINED; SENT or ACCEPTED → COMPLETED or
    /// CLOSED. DECLINED, COMPLETED and CLOSED are final.
    ReferralStatus {
        /// Sent by the referring worker, not yet answered.
        Sent => "SENT",
        /// Accepted by the receiver, who will act.
        Accepted => "ACCEPTED",
        /// Declined by the receiver, with the reason (final).
        Declined => "DECLINED",
        /// The need was met: the service the receiver gave is linked (final).
        Completed => "COMPLETED",
        /// Ended without the service: unreachable, moved or died (final).
        Closed => "CLOSED",
    }
);

vocabulary!(
    /// Why a referral was closed without the service.
    ReferralCloseReason {
        /// The person could not be reached.
        Unreachable => "UNREACHABLE",
        /// The person moved away.
        Moved => "MOVED",
        /// The person died.
        Died => "DIED",
    }
);

vocabulary!(
    /// What raised a referral.
    ReferralTrigger {
        /// A service of the due list, overdue (the referral's service type).
        OverdueService => "OVERDUE_SERVICE",
        /// An action agreed at a family assessment (`raisedById`: the action).
        AssessmentAction => "ASSESSMENT_ACTION",
        /// A growth measurement's classification (`raisedById`: its service record).
        Measurement => "MEASUREMENT",
        /// Anything else (the reason says what).
        Other => "OTHER",
    }
);

vocabulary!(
    /// What a child-protection case is about: the programme's list of children in need of
    /// special protection.
    ProtectionConcern {
        /// Neglect.
        Neglect => "NEGLECT",
        /// Violence and abuse, at home, at school or elsewhere.
        Violence => "VIOLENCE",
        /// Exploitation and hazardous work (child labour, herding in hazardous conditions,
        /// informal mining, jockeys).
        Exploitation => "EXPLOITATION",
        /// Trafficking.
        Trafficking => "TRAFFICKING",
        /// A child without parental care.
        WithoutParentalCare => "WITHOUT_PARENTAL_CARE",
        /// A child living or working on the street.
        StreetChild => "STREET_CHILD",
    }
);

vocabulary!(
    /// How much danger a child is in, as the case worker judges it; it sets how soon the next
    /// review is due (HIGH 7 days, MEDIUM 30, LOW 90).
    RiskLevel {
        /// Low.
        Low => "LOW",
        /// Medium.
        Medium => "MEDIUM",
        /// High: act now.
        High => "HIGH",
    }
);

vocabulary!(
    /// Whether a protection case is being worked on.
    CaseStatus {
        /// Open (a transfer may be pending).
        Open => "OPEN",
        /// Closed.
        Closed => "CLOSED",
    }
);

vocabulary!(
    /// A step of a protection case: what `updateProtectionCase` does, and what its history
    /// records.
    CaseStep {
        /// Opened (`openProtectionCase`; not a step of `updateProtectionCase`).
        Open => "OPEN",
        /// Reviewed: the risk level re-assessed, the next review due from it.
        Review => "REVIEW",
        /// The plan changed: actions added, actions done.
        Plan => "PLAN",
        /// Handed to another case worker (and unit), who accepts or rejects it.
        Transfer => "TRANSFER",
        /// The transfer accepted: the case is the new worker's (and unit's).
        AcceptTransfer => "ACCEPT_TRANSFER",
        /// The transfer rejected: the case stays where it was.
        RejectTransfer => "REJECT_TRANSFER",
        /// Closed, with the reason.
        Close => "CLOSE",
        /// Reopened (a supervisor).
        Reopen => "REOPEN",
    }
);

vocabulary!(
    /// Why a protection case was closed.
    CaseCloseReason {
        /// The child is safe; the plan's goals are met.
        NeedsMet => "NEEDS_MET",
        /// The child turned 18.
        AgedOut => "AGED_OUT",
        /// The child moved away and could not be followed.
        Moved => "MOVED",
        /// The child died.
        Died => "DIED",
    }
);
