//! Replays a labelled set of reports through the index and measures how well duplicates are
//! found: for each duplicate, the rank of its true original among the suggestions made against
//! every earlier document of its programme.

use std::path::Path;

use serde::Deserialize;

use crate::{DedupError, DedupIndex, DocKind, ReportDoc, Weights};

/// How many suggestions are asked for per duplicate; an original ranked lower counts as missed.
pub const SUGGESTIONS: usize = 10;

#[derive(Debug, Clone, Deserialize)]
pub struct LabelledDoc {
    #[serde(flatten)]
    pub doc: ReportDoc,
    /// The id of the original this document duplicates (a report or a known issue).
    pub original: Option<i64>,
    /// The generator's name for the underlying bug, for diagnostics.
    #[serde(default)]
    pub bug: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LabelledSet {
    pub seed: Option<u64>,
    /// In submission order.
    pub documents: Vec<LabelledDoc>,
}

#[derive(Debug, thiserror::Error)]
pub enum LabelledSetError {
    #[error("cannot read the labelled set {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the labelled set {path} is not valid: {source}")]
    Parse {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
    #[error("document {id} says it duplicates {original}, which is not an earlier document")]
    UnknownOriginal { id: i64, original: i64 },
}

impl LabelledSet {
    pub fn load(path: &Path) -> Result<LabelledSet, LabelledSetError> {
        let text = std::fs::read_to_string(path).map_err(|source| LabelledSetError::Read {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| LabelledSetError::Parse {
            path: path.to_owned(),
            source,
        })
    }
}

/// The outcome for one duplicate.
#[derive(Debug, Clone)]
pub struct DuplicateRank {
    pub id: i64,
    pub original: i64,
    pub bug: String,
    /// 1-based rank of the original, `None` when it is not among the first [`SUGGESTIONS`].
    pub rank: Option<usize>,
    /// What was suggested first, when it was not the original.
    pub top: Option<i64>,
    pub top_bug: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub documents: usize,
    pub ranks: Vec<DuplicateRank>,
}

impl Evaluation {
    pub fn duplicates(&self) -> usize {
        self.ranks.len()
    }

    /// Share of duplicates whose original is within the first `n` suggestions.
    pub fn top_n_rate(&self, n: usize) -> f64 {
        if self.ranks.is_empty() {
            return 0.0;
        }
        let hits = self
            .ranks
            .iter()
            .filter(|r| r.rank.is_some_and(|rank| rank <= n))
            .count();
        hits as f64 / self.ranks.len() as f64
    }

    /// Mean reciprocal rank over all duplicates (a miss counts 0).
    pub fn mrr(&self) -> f64 {
        if self.ranks.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .ranks
            .iter()
            .map(|r| r.rank.map_or(0.0, |rank| 1.0 / rank as f64))
            .sum();
        sum / self.ranks.len() as f64
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error(transparent)]
    Set(#[from] LabelledSetError),
    #[error(transparent)]
    Index(#[from] DedupError),
}

/// Replays `set` in submission order through a fresh in-memory index scoring with `weights`:
/// each document is first used as a query against everything submitted before it, then added.
/// With `confirm`, each duplicate is added as confirmed (`duplicate_of` set), as a triager
/// would have done before the next report arrives; without it, earlier duplicates of the same
/// bug compete with the original and count as misses when they rank above it.
pub fn evaluate(
    set: &LabelledSet,
    weights: Weights,
    confirm: bool,
) -> Result<Evaluation, EvaluationError> {
    let index = DedupIndex::in_memory()?.with_weights(weights);
    let mut kinds: std::collections::HashMap<i64, (DocKind, String)> =
        std::collections::HashMap::new();
    let mut ranks = Vec::new();
    for labelled in &set.documents {
        if let Some(original) = labelled.original {
            let Some((original_kind, _)) = kinds.get(&original).cloned() else {
                return Err(LabelledSetError::UnknownOriginal {
                    id: labelled.doc.id,
                    original,
                }
                .into());
            };
            let suggestions = index.suggest(&labelled.doc, SUGGESTIONS)?;
            let rank = suggestions
                .iter()
                .position(|c| c.report_id == original && c.kind == original_kind)
                .map(|p| p + 1);
            let top = suggestions.first().map(|c| c.report_id);
            ranks.push(DuplicateRank {
                id: labelled.doc.id,
                original,
                bug: labelled.bug.clone(),
                rank,
                top: top.filter(|_| rank != Some(1)),
                top_bug: top
                    .filter(|_| rank != Some(1))
                    .and_then(|id| kinds.get(&id).map(|(_, bug)| bug.clone())),
            });
        }
        // The triager confirms each duplicate before the next report arrives.
        let mut doc = labelled.doc.clone();
        doc.duplicate_of = labelled.original.filter(|_| confirm).and_then(|id| {
            kinds
                .get(&id)
                .map(|(kind, _)| crate::DocRef { kind: *kind, id })
        });
        index.upsert(&doc)?;
        kinds.insert(labelled.doc.id, (labelled.doc.kind, labelled.bug.clone()));
    }
    Ok(Evaluation {
        documents: set.documents.len(),
        ranks,
    })
}
