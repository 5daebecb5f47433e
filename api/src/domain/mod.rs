//! Domain rules as pure functions over values: vocabularies, ages and life stages, names,
//! input validation. Nothing here touches the database or the network.

pub mod age;
pub mod eligibility;
pub mod life_stage;
pub mod names;
pub mod validate;
pub mod vocab;
pub mod zscore;
