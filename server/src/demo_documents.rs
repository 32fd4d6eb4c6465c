//! Demo documents: about a dozen controlled documents across the types, several with two or
//! three revisions, one revision in review, one draft, one approved with a later effective date
//! and a train-by date, one document obsolete. The data is `server/demo/documents.json`; every
//! revision goes through the same workflow and signatures as a user's.

use std::collections::HashMap;

use chrono::{Days, Utc};
use serde::Deserialize;
use shared::auth::UserId;
use shared::document::{DocumentInput, DocumentType, RevisionAction, RevisionInput};
use shared::org::ProcessId;
use shared::signature::{Meaning, SignInput};

use crate::storage::{AuditContext, Change, Store, StoreError, StoreResult};

const DOCUMENTS: &str = include_str!("../demo/documents.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoDocument {
    doc_type: DocumentType,
    title: String,
    /// Usernames.
    owner: String,
    process: Option<String>,
    reviewers: Vec<String>,
    approvers: Vec<String>,
    review_interval_months: u32,
    retention_years: u32,
    #[serde(default)]
    source: String,
    #[serde(default)]
    source_revision: String,
    /// Made obsolete, with this reason.
    #[serde(default)]
    obsolete: Option<String>,
    revisions: Vec<DemoRevision>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRevision {
    /// `effective`, `approved_later`, `in_review` or `draft`.
    state: String,
    body: String,
    #[serde(default)]
    reason_for_change: String,
    #[serde(default)]
    change_summary: String,
    #[serde(default)]
    requested_by: String,
    /// For `approved_later`: days from today to the effective date.
    #[serde(default)]
    effective_in_days: u64,
    /// For `approved_later`: days from today to the train-by date.
    #[serde(default)]
    train_in_days: Option<u64>,
    /// In force since this many days ago (brought into Caliper from paper): its periodic review
    /// counts from then, so a long one is overdue for review.
    #[serde(default)]
    in_force_since_days: Option<u64>,
}

/// Seeds the demo documents once (nothing when a document exists): returns (created, existing).
/// `users` maps usernames to (id, printed name), `processes` process names to ids.
pub async fn seed_documents(
    store: &dyn Store,
    users: &HashMap<&str, (UserId, String)>,
    processes: &HashMap<String, ProcessId>,
) -> StoreResult<(usize, usize)> {
    let existing = store.list_documents(true).await?;
    if !existing.is_empty() {
        return Ok((0, existing.len()));
    }
    let demo: Vec<DemoDocument> =
        serde_json::from_str(DOCUMENTS).map_err(|e| StoreError::Internal(format!("demo/documents.json: {e}")))?;
    let who = |username: &str| {
        users.get(username).cloned().ok_or_else(|| StoreError::Internal(format!("no demo user `{username}`")))
    };
    let as_user = |(id, name): &(UserId, String)| AuditContext {
        actor_id: Some(id.0),
        actor_name: name.clone(),
        ..AuditContext::tool("caliper seed-demo")
    };
    let today = Utc::now().date_naive();
    let manager = who("priya.natarajan")?;
    let mut created = 0;
    for d in &demo {
        let ids = |names: &[String]| names.iter().map(|n| who(n).map(|u| u.0)).collect::<StoreResult<Vec<_>>>();
        let input = DocumentInput {
            doc_type: d.doc_type,
            title: d.title.clone(),
            owner_id: Some(who(&d.owner)?.0),
            process_id: d.process.as_ref().and_then(|p| processes.get(p).copied()),
            reviewers: ids(&d.reviewers)?,
            approvers: ids(&d.approvers)?,
            review_interval_months: d.review_interval_months,
            retention_years: d.retention_years,
            source: d.source.clone(),
            source_revision: d.source_revision.clone(),
            reader_roles: Vec::new(),
            reader_department_ids: Vec::new(),
        };
        let doc = store.create_document(&as_user(&manager), &input).await?;
        created += 1;
        let owner = who(&d.owner)?;
        for r in &d.revisions {
            let later = r.state == "approved_later";
            let input = RevisionInput {
                body: r.body.clone(),
                reason_for_change: r.reason_for_change.clone(),
                change_summary: r.change_summary.clone(),
                requested_by: r.requested_by.clone(),
                effective_date: later.then(|| today + Days::new(r.effective_in_days)),
                train_by: r.train_in_days.map(|n| today + Days::new(n)),
                ..Default::default()
            };
            let revision = store.create_revision(&as_user(&owner), doc.id, &input).await?;
            if r.state == "draft" {
                continue;
            }
            let (author, submit) = (as_user(&owner), RevisionAction::Submit);
            let moved = store.move_revision(&author, revision.id, revision.meta.version, submit, "", false).await?;
            let Change::Done(revision) = moved else {
                return Err(StoreError::Internal(format!("demo revision of {} not submitted", doc.number)));
            };
            if r.state == "in_review" {
                continue;
            }
            for (names, meaning) in [(&d.reviewers, Meaning::Reviewed), (&d.approvers, Meaning::Approved)] {
                for name in names {
                    let signer = who(name)?;
                    let sign = SignInput {
                        record_type: "document_revision".into(),
                        record_id: revision.id.0,
                        record_version: revision.content_version,
                        meaning,
                        password: String::new(),
                        username: None,
                        accept_agreement: true,
                        rationale: None,
                    };
                    store.sign(&as_user(&signer), signer.0, &signer.1, &sign, true).await?;
                }
            }
            if let Some(days) = r.in_force_since_days {
                store.backdate_in_force(&as_user(&manager), revision.id, today - Days::new(days)).await?;
            }
        }
        if let Some(reason) = &d.obsolete {
            let doc = store.get_document(doc.id).await?.unwrap_or(doc);
            store.obsolete_document(&as_user(&manager), doc.id, doc.meta.version, reason).await?;
        }
    }
    Ok((created, 0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_documents_read_and_never_ask_an_author_to_approve() {
        let demo: Vec<super::DemoDocument> = serde_json::from_str(super::DOCUMENTS).unwrap();
        assert!(demo.len() >= 12);
        let overdue = demo.iter().filter(|d| {
            d.revisions
                .iter()
                .any(|r| r.in_force_since_days.is_some_and(|n| n > u64::from(d.review_interval_months) * 31))
        });
        assert_eq!(overdue.count(), 1, "one document overdue for its periodic review");
        for d in &demo {
            assert!(!d.approvers.contains(&d.owner), "{}: the owner drafts, someone else approves", d.title);
            let states = ["effective", "approved_later", "in_review", "draft"];
            assert!(d.revisions.iter().all(|r| states.contains(&r.state.as_str())), "{}", d.title);
            assert!(d.revisions.iter().all(|r| r.in_force_since_days.is_none() || r.state == "effective"));
        }
    }
}

/// Texts whose words make the generated documents' vocabulary: the demo's own documents, risks,
/// FMEAs and quality history (real words of the trade, about 2,400 of them).
const VOCABULARY_SOURCES: [&str; 4] = [
    DOCUMENTS,
    include_str!("../demo/risks.csv"),
    include_str!("../demo/fmeas.json"),
    include_str!("../demo/quality_history.csv"),
];

/// The most words in the generated vocabulary (the demo's, then made-up ones to fill it).
const VOCABULARY: usize = 4_000;

/// Documents written per transaction by [`generate_documents`].
const BATCH: usize = 500;

/// A small deterministic generator (SplitMix64): the same documents on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A number in `0.0..1.0`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Words ranked for a Zipf draw (a word's chance is 1 / its rank, as in natural text): the demo's
/// words in a shuffled order, then made-up words of two to four syllables; with the cumulative
/// weights.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(rng: &mut Rng) -> Self {
        let mut real: Vec<String> = VOCABULARY_SOURCES
            .iter()
            .flat_map(|t| t.split(|c: char| !c.is_ascii_alphabetic()))
            .filter(|w| w.len() >= 3)
            .map(str::to_lowercase)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for i in (1..real.len()).rev() {
            let j = rng.below(i + 1);
            real.swap(i, j);
        }
        const SYLLABLES: [&str; 24] = [
            "ka", "lo", "ri", "sen", "tor", "mel", "va", "dun", "pre", "ix", "gal", "mo", "ter", "qui", "bra", "nel",
            "sto", "fin", "ul", "cra", "po", "zen", "hal", "vir",
        ];
        let mut words = real;
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        while words.len() < VOCABULARY {
            let n = 2 + rng.below(3);
            let w: String = (0..n).map(|_| SYLLABLES[rng.below(SYLLABLES.len())]).collect();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|c| *c < x).min(self.words.len() - 1);
        &self.words[i]
    }

    /// `n` words as a sentence: capitalised, ended by a full stop.
    fn sentence(&self, rng: &mut Rng, n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            let w = self.word(rng);
            if i == 0 {
                let mut c = w.chars();
                s.extend(c.next().map(|f| f.to_ascii_uppercase()));
                s.push_str(c.as_str());
            } else {
                s.push(' ');
                s.push_str(w);
                if i + 1 < n && rng.below(12) == 0 {
                    s.push(',');
                }
            }
        }
        s.push('.');
        s
    }

    /// About `words` words of Markdown: sections of a heading and paragraphs of sentences.
    fn text(&self, rng: &mut Rng, title: &str, words: usize) -> String {
        let mut out = format!("# {title}\n");
        let mut written = 0;
        while written < words {
            let heading = 1 + rng.below(3);
            out.push_str(&format!("\n## {}\n", self.sentence(rng, heading).trim_end_matches('.')));
            for _ in 0..2 + rng.below(3) {
                out.push('\n');
                for k in 0..3 + rng.below(5) {
                    let n = 8 + rng.below(14);
                    if k > 0 {
                        out.push(' ');
                    }
                    out.push_str(&self.sentence(rng, n));
                    written += n;
                }
                out.push('\n');
            }
        }
        out
    }
}

/// Writes `count` generated documents in force (for the bench), across the types: each with a
/// revision in force of about 2,000 words of varied text drawn from a vocabulary of 4,000 words
/// (so that a search's words are as selective as in real documents), one in 30 with an earlier
/// revision superseded, owned, reviewed and approved by the active users in turn, in the active
/// processes; in force since up to three years ago (some overdue for review). Written in batches
/// of 500, each one audited transaction. Returns how many (none without two active users).
pub async fn generate_documents(store: &dyn Store, ctx: &AuditContext, count: usize) -> StoreResult<usize> {
    use crate::storage::{HistoricDocument, HistoricRevision};
    let users: Vec<UserId> = store.list_users(false).await?.into_iter().map(|u| u.id).collect();
    if users.len() < 2 {
        return Ok(0);
    }
    let processes: Vec<ProcessId> = store.list_processes(false).await?.into_iter().map(|p| p.id).collect();
    let mut rng = Rng(0x00CA_11BE_2026);
    let vocabulary = Vocabulary::new(&mut rng);
    // Most documents are procedures and work instructions, as in a real system.
    const TYPES: [(DocumentType, usize); 7] = [
        (DocumentType::Sop, 8),
        (DocumentType::WorkInstruction, 6),
        (DocumentType::Form, 3),
        (DocumentType::Specification, 2),
        (DocumentType::Policy, 1),
        (DocumentType::External, 1),
        (DocumentType::QualityManual, 0),
    ];
    let slots: Vec<DocumentType> = TYPES.iter().flat_map(|(t, n)| std::iter::repeat_n(*t, *n)).collect();
    let today = Utc::now().date_naive();
    let mut written = 0;
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..count {
        let doc_type = if i == 0 { DocumentType::QualityManual } else { slots[rng.below(slots.len())] };
        let title = {
            let n = 2 + rng.below(4);
            let t = vocabulary.sentence(&mut rng, n);
            t.trim_end_matches('.').to_string()
        };
        let owner = users[i % users.len()];
        let other = |k: usize| users[(i + k) % users.len()];
        let since = today - Days::new(30 + rng.below(1_100) as u64);
        let mut revisions = Vec::new();
        if i % 30 == 7 {
            revisions.push(HistoricRevision {
                body: {
                    let n = 1_800 + rng.below(400);
                    vocabulary.text(&mut rng, &title, n)
                },
                reason_for_change: String::new(),
                change_summary: String::new(),
                in_force_from: since - Days::new(200 + rng.below(500) as u64),
            });
        }
        let later = !revisions.is_empty();
        revisions.push(HistoricRevision {
            body: {
                let n = 1_800 + rng.below(400);
                vocabulary.text(&mut rng, &title, n)
            },
            reason_for_change: if later { vocabulary.sentence(&mut rng, 8) } else { String::new() },
            change_summary: if later { vocabulary.sentence(&mut rng, 10) } else { String::new() },
            in_force_from: since,
        });
        let external = doc_type == DocumentType::External;
        batch.push(HistoricDocument {
            doc_type,
            title,
            owner,
            process: (!processes.is_empty() && i % 4 != 3).then(|| processes[i % processes.len()]),
            reviewers: vec![other(1)],
            approvers: vec![if other(2) != owner { other(2) } else { other(1) }],
            review_interval_months: [12, 24, 36][i % 3],
            retention_years: 10,
            source: if external { ("ISO".into(), format!("{}", 2015 + i % 10)) } else { Default::default() },
            revisions,
        });
        if batch.len() == BATCH {
            written += store.import_documents(ctx, &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        written += store.import_documents(ctx, &batch).await?;
    }
    store.analyze().await?;
    Ok(written)
}

#[cfg(test)]
mod generated {
    use super::{Rng, Vocabulary};

    #[test]
    fn the_generated_text_is_varied_and_the_same_every_time() {
        let mut a = Rng(1);
        let v = Vocabulary::new(&mut a);
        assert_eq!(v.words.len(), super::VOCABULARY);
        let text = v.text(&mut a, "Title", 2_000);
        let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).collect();
        assert!((1_900..2_400).contains(&words.len()), "{}", words.len());
        let distinct: std::collections::HashSet<_> = words.iter().map(|w| w.to_lowercase()).collect();
        assert!(distinct.len() > 500, "{}", distinct.len());
        let mut b = Rng(1);
        let again = Vocabulary::new(&mut b);
        assert_eq!(again.text(&mut b, "Title", 2_000), text);
    }
}
