//! The duplicate index: tantivy for text and endpoint retrieval, plus an in-memory table of
//! each document's structured features for scoring.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Mutex, RwLock};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::extract::Signals;
use crate::score::{self, Candidate, Features, Reason, Weights, normalise_asset};
use crate::{DedupError, DocKind, ReportDoc};

const ANALYZER: &str = "report_en";
/// Tantivy's minimum writer budget; the index of a programme's reports is small.
const WRITER_MEMORY_BYTES: usize = 20_000_000;
/// How many text matches and how many endpoint matches are re-scored per suggestion.
const TEXT_CANDIDATES: usize = 200;
const ENDPOINT_CANDIDATES: usize = 100;
/// The rarest description terms of the query (by tf-idf) that make up its text query; the
/// title's terms are always included. Long reports would otherwise build queries of hundreds
/// of terms, slower and noisier.
const MAX_BODY_TERMS: usize = 48;

/// A document's identity in the index: ids are unique per kind.
type DocKey = (DocKind, i64);
/// A candidate's score and its reasons, each with its contribution (to order them).
type ScoredCandidate = (f32, Vec<(f32, Reason)>);

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    id: Field,
    kind: Field,
    programme: Field,
    title: Field,
    body: Field,
    endpoint: Field,
    stored: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: builder.add_text_field("key", STRING),
        id: builder.add_i64_field("id", FAST),
        kind: builder.add_u64_field("kind", FAST),
        programme: builder.add_i64_field("programme", INDEXED),
        title: builder.add_text_field("title", text.clone()),
        body: builder.add_text_field("body", text),
        endpoint: builder.add_text_field("endpoint", STRING),
        stored: builder.add_bytes_field("doc", STORED),
    };
    (builder.build(), fields)
}

fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop_words) => builder
            .filter(stop_words)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

fn doc_key(kind: DocKind, id: i64) -> String {
    match kind {
        DocKind::Report => format!("r:{id}"),
        DocKind::KnownIssue => format!("k:{id}"),
    }
}

/// Every programme's reports and known issues, ready for duplicate suggestions.
///
/// All methods take `&self`: the index is `Send + Sync` and meant to be shared (in an `Arc`)
/// between request handlers. Writes are serialised internally and visible to the next
/// suggestion as soon as the call returns.
pub struct DedupIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    features: RwLock<HashMap<(DocKind, i64), Features>>,
    weights: Weights,
}

impl std::fmt::Debug for DedupIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedupIndex")
            .field("documents", &self.len())
            .field("weights", &self.weights)
            .finish()
    }
}

impl DedupIndex {
    /// An empty index held in memory; fill it with [`DedupIndex::rebuild`] at start-up.
    pub fn in_memory() -> Result<DedupIndex, DedupError> {
        let (schema, fields) = schema();
        DedupIndex::from_index(Index::create_in_ram(schema), fields)
    }

    /// An index persisted under `dir` (created if missing), so a restart need not rebuild it.
    /// An index written with another schema is refused with [`DedupError::SchemaMismatch`].
    pub fn open_or_create(dir: &Path) -> Result<DedupIndex, DedupError> {
        let (schema, fields) = schema();
        let directory = tantivy::directory::MmapDirectory::open(dir).map_err(|source| {
            DedupError::Directory {
                path: dir.to_owned(),
                source,
            }
        })?;
        let exists = Index::exists(&directory).map_err(tantivy::TantivyError::from)?;
        let index = if exists {
            let index = Index::open(directory)?;
            if index.schema() != schema {
                return Err(DedupError::SchemaMismatch {
                    path: dir.to_owned(),
                });
            }
            index
        } else {
            Index::create(directory, schema, tantivy::IndexSettings::default())?
        };
        let dedup = DedupIndex::from_index(index, fields)?;
        dedup.load_features()?;
        Ok(dedup)
    }

    fn from_index(index: Index, fields: Fields) -> Result<DedupIndex, DedupError> {
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(DedupIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            features: RwLock::new(HashMap::new()),
            weights: Weights::default(),
        })
    }

    /// The same index scoring with other weights (for evaluation and tuning).
    pub fn with_weights(mut self, weights: Weights) -> DedupIndex {
        self.weights = weights;
        self
    }

    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// How many documents the index holds, across programmes.
    pub fn len(&self) -> usize {
        self.features.read().map(|f| f.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a document, or replaces the one with the same kind and id.
    pub fn upsert(&self, doc: &ReportDoc) -> Result<(), DedupError> {
        self.upsert_many(std::slice::from_ref(doc))
    }

    /// Adds or replaces several documents in one commit.
    pub fn upsert_many(&self, docs: &[ReportDoc]) -> Result<(), DedupError> {
        let prepared: Vec<(DocKey, Features)> = docs
            .iter()
            .map(|doc| ((doc.kind, doc.id), features_of(doc)))
            .collect();
        let mut writer = self.writer.lock().map_err(|_| DedupError::Poisoned)?;
        let staged = docs.iter().zip(&prepared).try_for_each(|(doc, (key, f))| {
            writer.delete_term(Term::from_field_text(
                self.fields.key,
                &doc_key(key.0, key.1),
            ));
            writer.add_document(self.tantivy_doc(doc, f)).map(|_| ())
        });
        self.commit(&mut writer, staged)?;
        let mut features = self.features.write().map_err(|_| DedupError::Poisoned)?;
        features.extend(prepared);
        Ok(())
    }

    /// Removes a document; returns whether it was there.
    pub fn remove(&self, kind: DocKind, id: i64) -> Result<bool, DedupError> {
        let mut writer = self.writer.lock().map_err(|_| DedupError::Poisoned)?;
        writer.delete_term(Term::from_field_text(self.fields.key, &doc_key(kind, id)));
        self.commit(&mut writer, Ok(()))?;
        let mut features = self.features.write().map_err(|_| DedupError::Poisoned)?;
        Ok(features.remove(&(kind, id)).is_some())
    }

    /// Replaces the whole content with `docs` (start-up, or after a restore). When `docs` holds
    /// the same kind and id twice, the last one wins, as with successive upserts.
    pub fn rebuild(&self, docs: &[ReportDoc]) -> Result<(), DedupError> {
        let mut latest: HashMap<DocKey, &ReportDoc> = HashMap::with_capacity(docs.len());
        for doc in docs {
            latest.insert((doc.kind, doc.id), doc);
        }
        let fresh: HashMap<DocKey, Features> = latest
            .iter()
            .map(|(key, doc)| (*key, features_of(doc)))
            .collect();
        let mut writer = self.writer.lock().map_err(|_| DedupError::Poisoned)?;
        let staged = writer.delete_all_documents().map(|_| ()).and_then(|()| {
            // In input order (deterministic), skipping copies a later one replaces.
            docs.iter().try_for_each(|doc| {
                let key = (doc.kind, doc.id);
                match (latest.get(&key), fresh.get(&key)) {
                    (Some(last), Some(f)) if std::ptr::eq(*last, doc) => {
                        writer.add_document(self.tantivy_doc(doc, f)).map(|_| ())
                    }
                    _ => Ok(()),
                }
            })
        });
        self.commit(&mut writer, staged)?;
        *self.features.write().map_err(|_| DedupError::Poisoned)? = fresh;
        Ok(())
    }

    /// Commits what was staged, or throws it away when staging failed, so that a failed call
    /// leaves nothing half-done for the next commit to pick up.
    fn commit(
        &self,
        writer: &mut IndexWriter,
        staged: tantivy::Result<()>,
    ) -> Result<(), DedupError> {
        match staged.and_then(|()| writer.commit().map(|_| ())) {
            Ok(()) => {
                self.reader.reload()?;
                Ok(())
            }
            Err(e) => {
                // The original error is the one worth reporting.
                let _ = writer.rollback();
                Err(e.into())
            }
        }
    }

    /// Suggests likely duplicates of `query` among the documents of its programme, best first.
    /// The query itself (same kind and id) is never suggested; it need not be in the index.
    pub fn suggest(&self, query: &ReportDoc, limit: usize) -> Result<Vec<Candidate>, DedupError> {
        self.suggest_with(query, limit, &|_, _| true)
    }

    /// Like [`DedupIndex::suggest`], keeping only candidates for which `keep(kind, id)` holds
    /// (for instance only reports submitted before the query, or only open ones).
    pub fn suggest_with(
        &self,
        query: &ReportDoc,
        limit: usize,
        keep: &dyn Fn(DocKind, i64) -> bool,
    ) -> Result<Vec<Candidate>, DedupError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let query_features = features_of(query);
        let in_programme: Box<dyn Query> = Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_i64(self.fields.programme, query.programme),
                IndexRecordOption::Basic,
            )),
            0.0,
        ));

        // 1. Text: BM25 over title and description.
        let mut text_scores: HashMap<(DocKind, i64), f32> = HashMap::new();
        let text_terms = self.query_terms(&searcher, query);
        if !text_terms.is_empty() && self.weights.text > 0.0 {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, in_programme.box_clone())];
            for term in &text_terms {
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(
                            Term::from_field_text(self.fields.title, term),
                            IndexRecordOption::WithFreqs,
                        )),
                        self.weights.title_boost,
                    )),
                ));
                clauses.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.fields.body, term),
                        IndexRecordOption::WithFreqs,
                    )),
                ));
            }
            let hits = searcher.search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(TEXT_CANDIDATES).order_by_score(),
            )?;
            for (bm25, address) in hits {
                if bm25 > 0.0
                    && let Some(key) = self.key_of(&searcher, address)?
                {
                    text_scores.insert(key, bm25);
                }
            }
        }

        // 2. Endpoints: documents naming the same normalised endpoints, whatever their words.
        let mut candidates: HashSet<(DocKind, i64)> = text_scores.keys().copied().collect();
        if !query_features.locations.is_empty() && self.weights.endpoints > 0.0 {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, in_programme)];
            let mut any = false;
            for endpoint in &query_features.locations {
                any = true;
                clauses.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.fields.endpoint, endpoint),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
            if any {
                let hits = searcher.search(
                    &BooleanQuery::new(clauses),
                    &TopDocs::with_limit(ENDPOINT_CANDIDATES).order_by_score(),
                )?;
                for (score, address) in hits {
                    if score > 0.0
                        && let Some(key) = self.key_of(&searcher, address)?
                    {
                        candidates.insert(key);
                    }
                }
            }
        }

        // 3. Re-score every candidate on all signals.
        let best_text = text_scores.values().copied().fold(0.0_f32, f32::max);
        let total_docs = searcher.num_docs().max(1) as f32;
        let mut endpoint_weights: HashMap<String, f32> = HashMap::new();
        let endpoint_weight = |endpoint: &str| -> f32 {
            // Inverse document frequency: `/login` named by 300 reports says less than
            // `/api/v2/orders/{id}/invoice` named by three.
            let term = Term::from_field_text(self.fields.endpoint, endpoint);
            let df = searcher.doc_freq(&term).unwrap_or(0) as f32;
            (1.0 + total_docs / (df + 1.0)).ln()
        };
        for endpoint in &query_features.locations {
            endpoint_weights.insert(endpoint.clone(), endpoint_weight(endpoint));
        }
        let features = self.features.read().map_err(|_| DedupError::Poisoned)?;
        let lookup = |endpoint: &str| -> f32 {
            endpoint_weights
                .get(endpoint)
                .copied()
                .unwrap_or_else(|| endpoint_weight(endpoint))
        };
        let mut scored: HashMap<DocKey, ScoredCandidate> = HashMap::new();
        for key in candidates {
            if key == (query.kind, query.id) {
                continue;
            }
            let Some(candidate) = features.get(&key) else {
                continue;
            };
            if candidate.programme != query.programme {
                continue;
            }
            let text = match text_scores.get(&key) {
                Some(bm25) if best_text > 0.0 => bm25 / best_text,
                _ => 0.0,
            };
            let (total, mut reasons) =
                score::score(&self.weights, &query_features, candidate, text, &lookup);
            // A confirmed duplicate stands for its original: the triager wants the original.
            let target = match candidate.duplicate_of {
                Some(original) if original == (query.kind, query.id) => continue,
                Some(original) => match features.get(&original) {
                    Some(o) if o.programme == query.programme => {
                        reasons.push((0.0, Reason::ViaDuplicate { report_id: key.1 }));
                        original
                    }
                    _ => key,
                },
                None => key,
            };
            if !keep(target.0, target.1) {
                continue;
            }
            match scored.get_mut(&target) {
                Some(existing) if existing.0 >= total => {}
                _ => {
                    scored.insert(target, (total, reasons));
                }
            }
        }
        let mut ranked: Vec<Candidate> = scored
            .into_iter()
            .map(|(key, (total, mut reasons))| {
                reasons.sort_by(|a, b| b.0.total_cmp(&a.0));
                Candidate {
                    report_id: key.1,
                    kind: key.0,
                    score: total,
                    reasons: reasons.into_iter().map(|(_, reason)| reason).collect(),
                }
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.report_id.cmp(&b.report_id))
                .then(a.kind.cmp(&b.kind))
        });
        ranked.truncate(limit);
        Ok(ranked)
    }

    /// Suggestions for a document already in the index, by kind and id.
    pub fn suggest_for(
        &self,
        kind: DocKind,
        id: i64,
        limit: usize,
    ) -> Result<Option<Vec<Candidate>>, DedupError> {
        let Some(doc) = self.stored_doc(kind, id)? else {
            return Ok(None);
        };
        self.suggest(&doc, limit).map(Some)
    }

    fn stored_doc(&self, kind: DocKind, id: i64) -> Result<Option<ReportDoc>, DedupError> {
        let searcher = self.reader.searcher();
        let key = doc_key(kind, id);
        let hits = searcher.search(
            &TermQuery::new(
                Term::from_field_text(self.fields.key, &key),
                IndexRecordOption::Basic,
            ),
            &TopDocs::with_limit(1).order_by_score(),
        )?;
        match hits.first() {
            Some((_, address)) => self.read_stored(&searcher, *address, &key).map(Some),
            None => Ok(None),
        }
    }

    fn read_stored(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        key: &str,
    ) -> Result<ReportDoc, DedupError> {
        let stored: TantivyDocument = searcher.doc(address)?;
        let bytes = stored
            .get_first(self.fields.stored)
            .and_then(|v| v.as_bytes())
            .unwrap_or_default();
        serde_json::from_slice(bytes).map_err(|source| DedupError::StoredDocument {
            key: key.to_owned(),
            source,
        })
    }

    /// Fills the feature table from the stored documents of a persisted index.
    fn load_features(&self) -> Result<(), DedupError> {
        let searcher = self.reader.searcher();
        let mut loaded = HashMap::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let segment_ord = u32::try_from(ord).unwrap_or(u32::MAX);
            for doc_id in segment.doc_ids_alive() {
                let address = DocAddress::new(segment_ord, doc_id);
                let doc = self.read_stored(&searcher, address, &format!("{address:?}"))?;
                loaded.insert((doc.kind, doc.id), features_of(&doc));
            }
        }
        *self.features.write().map_err(|_| DedupError::Poisoned)? = loaded;
        Ok(())
    }

    fn key_of(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
    ) -> Result<Option<(DocKind, i64)>, DedupError> {
        let fast = searcher.segment_reader(address.segment_ord).fast_fields();
        let id = fast.i64("id")?.first(address.doc_id);
        let kind = fast.u64("kind")?.first(address.doc_id);
        Ok(id.map(|id| (DocKind::from_code(kind.unwrap_or(0)), id)))
    }

    fn tantivy_doc(&self, doc: &ReportDoc, features: &Features) -> TantivyDocument {
        let f = self.fields;
        let mut out = TantivyDocument::default();
        out.add_text(f.key, doc_key(doc.kind, doc.id));
        out.add_i64(f.id, doc.id);
        out.add_u64(f.kind, doc.kind.code());
        out.add_i64(f.programme, doc.programme);
        out.add_text(f.title, &doc.title);
        out.add_text(f.body, &doc.description);
        for location in &features.locations {
            out.add_text(f.endpoint, location);
        }
        // Plain strings and integers: serialising cannot fail.
        let json = serde_json::to_vec(doc).expect("a ReportDoc always serialises to JSON");
        out.add_bytes(f.stored, &json);
        out
    }

    /// The analysed terms of the query: all title terms, plus the description terms that are
    /// most specific (highest tf-idf) up to [`MAX_BODY_TERMS`].
    fn query_terms(&self, searcher: &tantivy::Searcher, query: &ReportDoc) -> Vec<String> {
        let mut analyzer = self
            .index
            .tokenizers()
            .get(ANALYZER)
            .unwrap_or_else(analyzer);
        let mut terms: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        analyzer.token_stream(&query.title).process(&mut |token| {
            if seen.insert(token.text.clone()) {
                terms.push(token.text.clone());
            }
        });
        let mut body_counts: HashMap<String, u32> = HashMap::new();
        analyzer
            .token_stream(&query.description)
            .process(&mut |token| {
                *body_counts.entry(token.text.clone()).or_insert(0) += 1;
            });
        let total = searcher.num_docs() as f32;
        let mut body_terms: Vec<(f32, String)> = body_counts
            .into_iter()
            .filter(|(term, _)| !seen.contains(term))
            .filter_map(|(term, count)| {
                let df = searcher
                    .doc_freq(&Term::from_field_text(self.fields.body, &term))
                    .unwrap_or(0) as f32;
                // A term no indexed document has cannot match anything.
                (df > 0.0).then(|| {
                    let idf = (1.0 + (total - df + 0.5) / (df + 0.5)).ln();
                    ((count as f32).sqrt() * idf, term)
                })
            })
            .collect();
        body_terms.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        terms.extend(
            body_terms
                .into_iter()
                .take(MAX_BODY_TERMS)
                .map(|(_, term)| term),
        );
        terms
    }
}

fn features_of(doc: &ReportDoc) -> Features {
    let signals = Signals::from_text(&format!("{}\n{}", doc.title, doc.description));
    Features {
        locations: signals.locations(),
        signals,
        kind: doc.kind,
        programme: doc.programme,
        asset: doc.asset.as_deref().and_then(normalise_asset),
        cwe: doc.cwe,
        family: crate::weakness::family_of_report(&doc.title, doc.cwe, &doc.description),
        duplicate_of: doc.duplicate_of.map(|d| (d.kind, d.id)),
    }
}
