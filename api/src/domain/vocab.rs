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
        Attendance => "ATTENDANCE",
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
}
