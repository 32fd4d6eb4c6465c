//! Quizzes: the questions with their key (kept on the server), how an attempt is marked, and
//! the sheet a trainee sees (shuffled, without the key).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Assignment;
use crate::FieldErrors;
use crate::validation::{self, INVALID, REQUIRED};

/// Most questions in one quiz.
pub const QUESTIONS_MAX: usize = 100;
/// Most options of one question.
pub const OPTIONS_MAX: usize = 10;

/// One quiz question. `correct` (indexes into `options`) never leaves the server except to
/// the people who manage training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The question.
    pub text: String,
    /// The answers to choose from.
    pub options: Vec<String>,
    /// Which options are right (one or several).
    pub correct: Vec<u32>,
}

/// A quiz: its questions, the pass mark and how many attempts a person has per assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    /// The questions.
    pub questions: Vec<Question>,
    /// The score needed to pass, in percent of the questions answered right.
    pub pass_mark: u32,
    /// Attempts per round: after a round failed the trainee reads the revision and signs again.
    pub attempts_allowed: u32,
}

impl Quiz {
    /// The rules of a quiz, with field names under `quiz.`.
    pub fn check(&self, e: &mut FieldErrors) {
        if self.questions.is_empty() {
            e.add("quiz.questions", REQUIRED);
        } else if self.questions.len() > QUESTIONS_MAX {
            e.add("quiz.questions", validation::TOO_LONG);
        }
        for (i, q) in self.questions.iter().enumerate() {
            validation::text(e, &format!("quiz.questions[{i}].text"), &q.text, true, 1000);
            if q.options.len() < 2 || q.options.len() > OPTIONS_MAX {
                e.add(format!("quiz.questions[{i}].options"), INVALID);
            }
            for (j, o) in q.options.iter().enumerate() {
                validation::text(e, &format!("quiz.questions[{i}].options[{j}]"), o, true, 500);
            }
            let distinct: BTreeSet<u32> = q.correct.iter().copied().collect();
            if q.correct.is_empty() {
                e.add(format!("quiz.questions[{i}].correct"), REQUIRED);
            } else if distinct.len() != q.correct.len() || distinct.iter().any(|c| *c as usize >= q.options.len()) {
                e.add(format!("quiz.questions[{i}].correct"), INVALID);
            }
        }
        if !(1..=100).contains(&self.pass_mark) {
            e.add("quiz.pass_mark", INVALID);
        }
        if !(1..=10).contains(&self.attempts_allowed) {
            e.add("quiz.attempts_allowed", INVALID);
        }
    }

    /// Marks `answers` (one list of chosen option indexes per question, in the quiz's order): a
    /// question is right when exactly its right options are chosen. Returns the score in percent
    /// (rounded down) and whether it reaches the pass mark.
    pub fn mark(&self, answers: &[Vec<u32>]) -> (u32, bool) {
        let right = self
            .questions
            .iter()
            .enumerate()
            .filter(|(i, q)| {
                let chosen: BTreeSet<u32> = answers.get(*i).map(|a| a.iter().copied().collect()).unwrap_or_default();
                let correct: BTreeSet<u32> = q.correct.iter().copied().collect();
                chosen == correct
            })
            .count();
        let total = self.questions.len().max(1);
        let score = u32::try_from(right * 100 / total).unwrap_or(0);
        (score, score >= self.pass_mark)
    }

    /// The quiz as a trainee sees it: questions without the answer key, in an order shuffled
    /// per attempt (`seed`), each with its index in the quiz so that answers come back keyed.
    pub fn for_trainee(&self, seed: u64) -> Vec<QuizQuestion> {
        let mut order: Vec<usize> = (0..self.questions.len()).collect();
        // A small deterministic shuffle (xorshift): the same attempt shows the same order.
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        order
            .into_iter()
            .map(|i| {
                let q = &self.questions[i];
                QuizQuestion {
                    index: u32::try_from(i).unwrap_or(0),
                    text: q.text.clone(),
                    options: q.options.clone(),
                    several: q.correct.len() > 1,
                }
            })
            .collect()
    }
}

/// A question as the trainee sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QuizQuestion {
    /// Its position in the quiz (answers are keyed by it).
    pub index: u32,
    /// The question.
    pub text: String,
    /// The answers to choose from.
    pub options: Vec<String>,
    /// Whether more than one answer is right ("choose all that apply").
    pub several: bool,
}

/// A quiz to take, for one assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QuizSheet {
    /// The attempt this sheet is for (1 for the first, counting every round); send it back with
    /// the answers.
    pub attempt: u32,
    /// Which try of the current round it is (1 to `attempts_allowed`).
    pub try_in_round: u32,
    /// Attempts allowed.
    pub attempts_allowed: u32,
    /// The pass mark in percent.
    pub pass_mark: u32,
    /// The questions, shuffled.
    pub questions: Vec<QuizQuestion>,
}

/// Answers to one attempt of a quiz.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuizAnswers {
    /// Which attempt these answers are for (from the sheet); a second sending is refused.
    pub attempt: u32,
    /// For each question's `index`, the chosen option indexes.
    pub answers: std::collections::BTreeMap<u32, Vec<u32>>,
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QuizResult {
    /// The attempt.
    pub attempt: u32,
    /// Score in percent.
    pub score: u32,
    /// Whether it passed.
    pub passed: bool,
    /// Attempts still allowed in this round.
    pub attempts_left: u32,
    /// The round was failed: read the revision and sign again, then a new round begins.
    pub read_again: bool,
    /// The assignment after the attempt.
    pub assignment: Assignment,
}
