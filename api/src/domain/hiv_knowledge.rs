//! Comprehensive knowledge about HIV prevention, as MICS counts it (indicator HA.1): a person
//! knows both ways of preventing sexual transmission asked about, knows a healthy-looking person
//! can have HIV, and rejects the two misconceptions MICS asks about in every country. "Don't
//! know" is never right.

use super::vocab::KnowledgeAnswer::{self, No, Yes};

/// The five prompted questions, in MICS's order of topics, with the right answer to each.
pub const QUESTIONS: [(Question, KnowledgeAnswer); 5] = [
    (Question::OneFaithfulPartner, Yes),
    (Question::CondomEveryTime, Yes),
    (Question::HealthyLookingPerson, Yes),
    (Question::MosquitoBites, No),
    (Question::SharingFood, No),
];

/// One question of the assessment.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Question {
    /// Can people reduce their chance of getting HIV by having just one uninfected sex partner who
    /// has no other sex partners?
    OneFaithfulPartner,
    /// Can people reduce their chance of getting HIV by using a condom every time they have sex?
    CondomEveryTime,
    /// Is it possible for a healthy-looking person to have HIV?
    HealthyLookingPerson,
    /// Can people get HIV from mosquito bites?
    MosquitoBites,
    /// Can people get HIV by sharing food with a person who has HIV?
    SharingFood,
}

/// The answers of one assessment, in the order of `QUESTIONS`.
pub type Answers = [KnowledgeAnswer; 5];

/// Whether every answer is the right one.
pub fn comprehensive(answers: &Answers) -> bool {
    QUESTIONS.iter().zip(answers).all(|((_, right), given)| right == given)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vocab::KnowledgeAnswer::DontKnow;

    #[test]
    fn only_five_right_answers_make_comprehensive_knowledge() {
        let right: Answers = QUESTIONS.map(|(_, a)| a);
        assert!(comprehensive(&right));
        assert_eq!(right, [Yes, Yes, Yes, No, No]);
        for i in 0..5 {
            for wrong in [Yes, No, DontKnow].into_iter().filter(|a| *a != right[i]) {
                let mut answers = right;
                answers[i] = wrong;
                assert!(!comprehensive(&answers), "{:?} answered {wrong:?}", QUESTIONS[i].0);
            }
        }
    }
}
