//! What the root-cause suggestions answer (the model is the server's): the most likely fishbone
//! categories with a confidence, and the most similar closed records. Shown as suggestions,
//! never filled in.

use serde::{Deserialize, Serialize};

use super::CauseCategory;

/// A category with its confidence (0–1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CategoryGuess {
    /// The category.
    pub category: CauseCategory,
    /// Its posterior probability.
    pub confidence: f64,
}

/// A past closed record like the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SimilarRecord {
    /// Its number (`NC-00042`, `CAPA-0007`).
    pub number: String,
    /// Its text, shortened.
    pub excerpt: String,
    /// Its confirmed root-cause category.
    pub category: CauseCategory,
    /// Cosine similarity, 0–1.
    pub similarity: f64,
}

/// What the model suggests for a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Suggestions {
    /// The three most likely categories, most likely first.
    pub categories: Vec<CategoryGuess>,
    /// The five most similar past records.
    pub similar: Vec<SimilarRecord>,
    /// How many closed records the model learned from.
    pub trained_on: usize,
}

/// How well the model does on records it did not learn from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ModelAccuracy {
    /// Records learned from.
    pub trained_on: usize,
    /// Records held out.
    pub held_out: usize,
    /// Share of held-out records whose category was the first suggestion.
    pub top1: f64,
    /// Share whose category was among the first three.
    pub top3: f64,
    /// Share a "always the most frequent category" guess gets right.
    pub baseline: f64,
}
