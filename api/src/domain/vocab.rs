//! The closed vocabularies of the data model (sex, org-unit level, dwelling, outcomes, ...): one
//! definition each, used as GraphQL enums and stored as their upper-case names.

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

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

vocabulary!(Sex { Male => "MALE", Female => "FEMALE" });

vocabulary!(
    /// Levels of Mongolia's administrative tree.
    OrgUnitLevel {
        Country => "COUNTRY", Region => "REGION", Aimag => "AIMAG", Capital => "CAPITAL",
        Soum => "SOUM", District => "DISTRICT", Bag => "BAG", Khoroo => "KHOROO",
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

vocabulary!(Dwelling { Ger => "GER", House => "HOUSE", Apartment => "APARTMENT", Other => "OTHER" });

vocabulary!(MigrantStatus {
    Resident => "RESIDENT", InMigrant => "IN_MIGRANT", SeasonalMigrant => "SEASONAL_MIGRANT",
    UnregisteredMigrant => "UNREGISTERED_MIGRANT",
});

vocabulary!(RelationToHead {
    Head => "HEAD", Spouse => "SPOUSE", Child => "CHILD", Grandchild => "GRANDCHILD", Parent => "PARENT",
    Sibling => "SIBLING", OtherRelative => "OTHER_RELATIVE", NotRelated => "NOT_RELATED",
});

vocabulary!(
    /// Washington Group functional domains; null on a person means none recorded.
    Disability {
        Seeing => "SEEING", Hearing => "HEARING", Mobility => "MOBILITY", Cognition => "COGNITION",
        SelfCare => "SELF_CARE", Communication => "COMMUNICATION", Multiple => "MULTIPLE",
    }
);

vocabulary!(PregnancyOutcome {
    LiveBirth => "LIVE_BIRTH", Stillbirth => "STILLBIRTH", Miscarriage => "MISCARRIAGE",
    InducedAbortion => "INDUCED_ABORTION", Ectopic => "ECTOPIC",
});

vocabulary!(DeliveryPlace { Facility => "FACILITY", Home => "HOME", EnRoute => "EN_ROUTE" });

vocabulary!(
    /// Who attended a delivery; DOCTOR and NURSE_MIDWIFE count as skilled.
    BirthAttendant { Doctor => "DOCTOR", NurseMidwife => "NURSE_MIDWIFE", Other => "OTHER", None => "NONE" }
);

vocabulary!(MeasurementPosition { Lying => "LYING", Standing => "STANDING" });

vocabulary!(Sector {
    Health => "HEALTH", Nutrition => "NUTRITION", Education => "EDUCATION", Protection => "PROTECTION",
    Wash => "WASH", Social => "SOCIAL", Participation => "PARTICIPATION",
});

vocabulary!(
    /// Who a service is for; checked when a service is recorded.
    TargetGroup {
        Child => "CHILD", PregnantWoman => "PREGNANT_WOMAN", Mother => "MOTHER", YoungPerson => "YOUNG_PERSON",
        Caregiver => "CAREGIVER", Household => "HOUSEHOLD", AnyPerson => "ANY_PERSON",
    }
);

vocabulary!(
    /// Which typed detail a service record of this type carries.
    DetailKind {
        None => "NONE", Growth => "GROWTH", Immunisation => "IMMUNISATION", Enrolment => "ENROLMENT",
        Attendance => "ATTENDANCE", Milestones => "MILESTONES",
    }
);

vocabulary!(EnrolmentEndReason {
    Completed => "COMPLETED", DroppedOut => "DROPPED_OUT", Transferred => "TRANSFERRED", Moved => "MOVED",
    Died => "DIED",
});

vocabulary!(
    /// What a user may do; see the role matrix in README.md.
    Role { Admin => "ADMIN", Analyst => "ANALYST", Partner => "PARTNER", FieldWorker => "FIELD_WORKER", Provider => "PROVIDER" }
);

vocabulary!(PartnerKind { Ngo => "NGO", Government => "GOVERNMENT", Agency => "AGENCY" });

vocabulary!(
    /// The two org-unit scopes of a user: where they may write and where they may read.
    ScopeKind { Capture => "CAPTURE", View => "VIEW" }
);

vocabulary!(
    /// The ground on which personal data of a household is processed.
    LegalBasis {
        Consent => "CONSENT", LegalObligation => "LEGAL_OBLIGATION", PublicTask => "PUBLIC_TASK",
        VitalInterest => "VITAL_INTEREST",
    }
);

vocabulary!(
    /// The WHO growth reference a z-score comes from: the Child Growth Standards (0-5 years) or
    /// the Growth Reference (5-19 years).
    GrowthReference { Who2006 => "WHO_2006", Who2007 => "WHO_2007" }
);

vocabulary!(
    /// Stunting, wasting, underweight or thinness: below -2 SD moderate, below -3 SD severe.
    GrowthSeverity { None => "NONE", Moderate => "MODERATE", Severe => "SEVERE" }
);

vocabulary!(
    /// Age-based growth indicators, charted against the WHO reference curves.
    GrowthIndicator {
        WeightForAge => "WEIGHT_FOR_AGE", LengthHeightForAge => "LENGTH_HEIGHT_FOR_AGE",
        BmiForAge => "BMI_FOR_AGE",
    }
);

vocabulary!(
    /// What a due item is: the schedules the service evaluates.
    DueKind {
        Immunisation => "IMMUNISATION", VitaminA => "VITAMIN_A", GrowthMonitoring => "GROWTH_MONITORING",
        AntenatalCare => "ANTENATAL_CARE", PostnatalCare => "POSTNATAL_CARE",
    }
);

vocabulary!(
    /// Where a scheduled service stands on a day: GIVEN; DUE (from its due date); OVERDUE (past
    /// its grace period); UPCOMING (not yet due, or waiting for an earlier dose); MISSED (its
    /// window closed without it).
    DueStatus {
        Given => "GIVEN", Due => "DUE", Overdue => "OVERDUE", Upcoming => "UPCOMING", Missed => "MISSED",
    }
);

vocabulary!(
    /// How a schedule rule repeats: every interval within an age band, or one contact in a window.
    SchedulePattern { Recurring => "RECURRING", Contact => "CONTACT" }
);

vocabulary!(
    /// What a schedule rule's ages count from: birth, the last menstrual period of the open
    /// pregnancy, or the latest delivery.
    ScheduleAnchor { Birth => "BIRTH", Lmp => "LMP", Delivery => "DELIVERY" }
);

vocabulary!(ScheduleUnit { Day => "DAY", Week => "WEEK", Month => "MONTH" });

vocabulary!(
    /// Domains of early childhood development checked with milestones.
    DevelopmentDomain {
        Motor => "MOTOR", Language => "LANGUAGE", SocioEmotional => "SOCIO_EMOTIONAL",
        Cognitive => "COGNITIVE",
    }
);

vocabulary!(
    /// A milestone for one child: ACHIEVED (at some check); NOT_YET (not achieved at the last
    /// check, still within its expected window then); DELAYED (not achieved at a check after the
    /// window closed); NOT_CHECKED.
    MilestoneStatus {
        Achieved => "ACHIEVED", NotYet => "NOT_YET", Delayed => "DELAYED", NotChecked => "NOT_CHECKED",
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
            SchedulePattern,
            ScheduleAnchor,
            ScheduleUnit,
            DevelopmentDomain,
            MilestoneStatus,
            DetailKind
        );
    }
}

vocabulary!(
    /// A family assessment's answer to one indicator.
    AssessmentAnswer { Yes => "YES", No => "NO", NotApplicable => "NOT_APPLICABLE" }
);

vocabulary!(
    /// What in a household's composition on the day makes an assessment indicator apply.
    AppliesWhen {
        Always => "ALWAYS",
        ChildUnder5 => "CHILD_UNDER_5",
        Child12To23Months => "CHILD_12_23_MONTHS",
        Child3To5 => "CHILD_3_TO_5",
        SchoolAgeChild => "SCHOOL_AGE_CHILD",
        ChildUnder18 => "CHILD_UNDER_18",
        Adolescent => "ADOLESCENT",
        PregnantWoman => "PREGNANT_WOMAN",
    }
);

vocabulary!(
    /// The areas community-identified projects work in (the programme's list).
    CipArea {
        ServiceCapacity => "SERVICE_CAPACITY",
        ParentTraining => "PARENT_TRAINING",
        EarlyChildhoodDevelopment => "EARLY_CHILDHOOD_DEVELOPMENT",
        GrowthMonitoring => "GROWTH_MONITORING",
        CommunityInformation => "COMMUNITY_INFORMATION",
        Micronutrients => "MICRONUTRIENTS",
        WaterSanitation => "WATER_SANITATION",
        NonFormalEducation => "NON_FORMAL_EDUCATION",
        Gardening => "GARDENING",
        ChildFriendlyEnvironment => "CHILD_FRIENDLY_ENVIRONMENT",
        HivPrevention => "HIV_PREVENTION",
        ChildProtection => "CHILD_PROTECTION",
        ChildParticipation => "CHILD_PARTICIPATION",
    }
);

vocabulary!(
    /// An action agreed with a family at an assessment, followed up on later visits.
    ActionStatus { Open => "OPEN", Done => "DONE", Dropped => "DROPPED" }
);

vocabulary!(
    /// A community-identified project's workflow.
    ProjectStatus {
        Proposed => "PROPOSED", Approved => "APPROVED", InProgress => "IN_PROGRESS",
        Completed => "COMPLETED", Cancelled => "CANCELLED",
    }
);

vocabulary!(
    /// Who pays a budget line of a project.
    FunderKind {
        LocalGovernment => "LOCAL_GOVERNMENT", Unicef => "UNICEF", Partner => "PARTNER",
        Community => "COMMUNITY", Other => "OTHER",
    }
);

vocabulary!(
    /// How a coverage answer is broken down: ORG_UNIT by the units one level below the chosen
    /// unit (rows placed at the unit itself form a row of their own), SEX, AGE_BAND (the
    /// standard bands of `domain::age_band`; a birth's is the mother's age), URBAN_RURAL (the
    /// settlement type of the unit a row belongs to), MONTH or QUARTER (each sub-period counted
    /// on its own, as at its last day).
    CoverageDimension {
        OrgUnit => "ORG_UNIT",
        Sex => "SEX",
        AgeBand => "AGE_BAND",
        UrbanRural => "URBAN_RURAL",
        Month => "MONTH",
        Quarter => "QUARTER",
    }
);

vocabulary!(
    /// The settlement type of an org unit.
    Settlement { Urban => "URBAN", Rural => "RURAL" }
);

vocabulary!(
    /// What `aggregate` counts: people, households, service records (of people) or growth
    /// measurements.
    AggregateEntity {
        People => "PEOPLE",
        Households => "HOUSEHOLDS",
        ServiceRecords => "SERVICE_RECORDS",
        GrowthMeasurements => "GROWTH_MEASUREMENTS",
    }
);

vocabulary!(
    /// How an aggregate is broken down: ORG_UNIT (the units one level below the chosen one),
    /// SEX, AGE_BAND (people: age on `asOf`; records and measurements: age on the day),
    /// URBAN_RURAL, MONTH / QUARTER / YEAR (of the service or measurement date, or a household's
    /// registration), SERVICE_TYPE (records), DWELLING (households).
    AggregateDimension {
        OrgUnit => "ORG_UNIT",
        Sex => "SEX",
        AgeBand => "AGE_BAND",
        UrbanRural => "URBAN_RURAL",
        Month => "MONTH",
        Quarter => "QUARTER",
        Year => "YEAR",
        ServiceType => "SERVICE_TYPE",
        Dwelling => "DWELLING",
    }
);

vocabulary!(
    /// What `aggregate` computes per row: COUNT (rows of the entity), PEOPLE and HOUSEHOLDS
    /// (distinct), MEAN_HAZ / MEAN_WHZ / MEAN_WAZ (growth measurements, WHO-flagged values left out).
    Measure {
        Count => "COUNT",
        People => "PEOPLE",
        Households => "HOUSEHOLDS",
        MeanHaz => "MEAN_HAZ",
        MeanWhz => "MEAN_WHZ",
        MeanWaz => "MEAN_WAZ",
    }
);

vocabulary!(
    /// Where a coverage denominator comes from: REGISTRY (people, births or measurements
    /// registered in the service) or POPULATION (official estimates, `importPopulation`).
    DenominatorSource { Registry => "REGISTRY", Population => "POPULATION" }
);

vocabulary!(SortDirection { Asc => "ASC", Desc => "DESC" });

vocabulary!(
    /// What a list of people can be ordered by (names and birth dates: identified callers only).
    PersonSort { Id => "ID", BirthDate => "BIRTH_DATE", FamilyName => "FAMILY_NAME", GivenName => "GIVEN_NAME" }
);

vocabulary!(
    /// What a list of households can be ordered by.
    HouseholdSort { Id => "ID", RegisteredOn => "REGISTERED_ON" }
);

vocabulary!(
    /// What a list of community projects can be ordered by.
    ProjectSort { Id => "ID", Title => "TITLE", CreatedAt => "CREATED_AT" }
);
