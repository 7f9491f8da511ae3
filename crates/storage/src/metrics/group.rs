//! Folding visible checklists into each metrics form. Every function returns rows carrying
//! [`Counts`]; the caller picks the summary or detail object.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use stigward_wire::metrics::{
    AssetBase, BySeverity, ChecklistBase, CollectionBase, LabelBase, MetaBase, MetaStigBase,
    StigBase, WithMetrics,
};

use super::{AssetInfo, Checklist, Counts, LabelInfo, MetricsData, RevisionInfo, Style};

pub type Row<B> = WithMetrics<B, Counts>;

/// A label (none for the unlabeled row) and its visible assets.
type LabelGroup<'a> = (Option<&'a LabelInfo>, Vec<i64>);

/// The revision of a checklist no longer in the library (deleted since the load).
static NO_REVISION: RevisionInfo = RevisionInfo {
    benchmark_id: String::new(),
    title: String::new(),
    marking: None,
    revision_str: String::new(),
    revision_date: None,
    rules: BySeverity { low: 0, medium: 0, high: 0 },
};

fn sum<'a>(checklists: impl Iterator<Item = &'a Checklist>) -> Counts {
    let mut total = Counts::default();
    for checklist in checklists {
        total.add(&checklist.counts);
    }
    total
}

impl MetricsData {
    fn revision(&self, rev_id: &str) -> &RevisionInfo {
        self.revisions.get(rev_id).unwrap_or(&NO_REVISION)
    }

    /// Visible assets ordered by name (then id, as names repeat across collections).
    fn assets_by_name(&self) -> Vec<&AssetInfo> {
        let mut assets: Vec<&AssetInfo> = self.assets.values().map(AsRef::as_ref).collect();
        assets.sort_by(|a, b| a.name.cmp(&b.name).then(a.asset_id.cmp(&b.asset_id)));
        assets
    }

    /// The visible checklists with their assets, by asset name and benchmark id.
    fn checklist_rows(&self) -> Vec<(&AssetInfo, &Checklist)> {
        let mut rows: Vec<(&AssetInfo, &Checklist)> = self
            .checklists
            .iter()
            .filter_map(|c| self.assets.get(&c.asset_id).map(|a| (a.as_ref(), c.as_ref())))
            .collect();
        // kept collections list their checklists in this order already
        rows.sort_by(|(a, c), (b, d)| {
            (&a.name, a.asset_id, &c.benchmark_id).cmp(&(&b.name, b.asset_id, &d.benchmark_id))
        });
        rows
    }

    fn checklist_row<'a>(
        &'a self,
        asset: &'a AssetInfo,
        checklist: &'a Checklist,
    ) -> Row<ChecklistBase<'a>> {
        let rev = self.revision(&checklist.rev_id);
        WithMetrics {
            base: ChecklistBase {
                asset_id: asset.asset_id,
                name: &asset.name,
                labels: &asset.label_refs,
                benchmark_id: &checklist.benchmark_id,
                title: &rev.title,
                marking: rev.marking.as_deref(),
                revision_str: &rev.revision_str,
                revision_pinned: checklist.pinned,
                revision_date: rev.revision_date.as_deref(),
            },
            metrics: checklist.counts.clone(),
        }
    }

    /// One row per checklist, by asset name and benchmark id.
    pub fn by_checklist(&self) -> Vec<Row<ChecklistBase<'_>>> {
        let rows = self.checklist_rows();
        rows.into_iter().map(|(asset, checklist)| self.checklist_row(asset, checklist)).collect()
    }

    /// [`MetricsData::by_checklist`] as a JSON array. The unaggregated forms run to tens of
    /// megabytes, so each checklist's row is written once per kept copy of its counters and
    /// copied into later answers.
    pub fn by_checklist_json(&self, style: Style) -> serde_json::Result<Vec<u8>> {
        let rows = self.checklist_rows();
        let mut parts = Vec::with_capacity(rows.len());
        for (asset, checklist) in rows {
            let slot = &checklist.rendered[style as usize];
            let part = match slot.get() {
                Some(part) => part,
                None => {
                    let row = self.checklist_row(asset, checklist);
                    let json = match style {
                        Style::Summary => serde_json::to_vec(&row.map_metrics(|m| m.summary())),
                        Style::Detail => serde_json::to_vec(&row.map_metrics(|m| m.detail())),
                    }?;
                    slot.get_or_init(|| json.into_boxed_slice())
                }
            };
            parts.push(part);
        }
        let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum::<usize>() + 1);
        out.push(b'[');
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(part);
        }
        out.push(b']');
        Ok(out)
    }

    /// One row per visible asset, by name.
    pub fn by_asset(&self) -> Vec<Row<AssetBase<'_>>> {
        let mut per_asset: BTreeMap<i64, Vec<&Checklist>> = BTreeMap::new();
        for checklist in &self.checklists {
            per_asset.entry(checklist.asset_id).or_default().push(checklist);
        }
        self.assets_by_name()
            .into_iter()
            .map(|asset| {
                let checklists = per_asset.remove(&asset.asset_id).unwrap_or_default();
                let mut benchmark_ids: Vec<&str> =
                    checklists.iter().map(|c| c.benchmark_id.as_str()).collect();
                benchmark_ids.sort_unstable();
                WithMetrics {
                    base: AssetBase {
                        asset_id: asset.asset_id,
                        name: &asset.name,
                        labels: &asset.label_refs,
                        ip: asset.ip.as_deref(),
                        fqdn: asset.fqdn.as_deref(),
                        mac: asset.mac.as_deref(),
                        noncomputing: asset.noncomputing,
                        benchmark_ids,
                    },
                    metrics: sum(checklists.into_iter()),
                }
            })
            .collect()
    }

    /// One row per collection in scope, by name. With a STIG or revision filter, collections
    /// without a matching checklist are left out.
    pub fn by_collection(&self) -> Vec<Row<CollectionBase>> {
        self.collections
            .iter()
            .map(|(collection_id, name)| {
                let checklists: Vec<&Checklist> = self
                    .checklists
                    .iter()
                    .filter(|c| c.collection_id == *collection_id)
                    .map(AsRef::as_ref)
                    .collect();
                let stigs: BTreeSet<&str> =
                    checklists.iter().map(|c| c.benchmark_id.as_str()).collect();
                let assets = self.assets.values().filter(|a| a.collection_id == *collection_id);
                WithMetrics {
                    base: CollectionBase {
                        collection_id: *collection_id,
                        name: name.clone(),
                        assets: assets.count() as i64,
                        stigs: stigs.len() as i64,
                        checklists: checklists.len() as i64,
                    },
                    metrics: sum(checklists.into_iter()),
                }
            })
            .filter(|row| !self.filter.by_stig() || row.base.checklists > 0)
            .collect()
    }

    /// One row per label of a visible asset (only the filter's labels when it names some),
    /// plus a row for unlabeled assets; by name, the unlabeled row first.
    pub fn by_label(&self) -> Vec<Row<LabelBase>> {
        // keyed by (name, id) so rows come out by name, the unlabeled row (no name) first
        let mut groups: BTreeMap<(Option<String>, i64), LabelGroup> = BTreeMap::new();
        let show = |label: &LabelInfo| !self.filter.by_label() || self.filter.label_matches(label);
        for asset in self.assets.values() {
            if asset.labels.is_empty() && (!self.filter.by_label() || self.filter.unlabeled) {
                groups.entry((None, 0)).or_insert((None, Vec::new())).1.push(asset.asset_id);
            }
            for label in asset.labels.iter().filter(|l| show(l)) {
                let key = (Some(label.name.clone()), label.label_id);
                groups.entry(key).or_insert((Some(label), Vec::new())).1.push(asset.asset_id);
            }
        }
        groups
            .into_values()
            .map(|(label, asset_ids)| {
                let members: HashSet<i64> = asset_ids.iter().copied().collect();
                let checklists = self
                    .checklists
                    .iter()
                    .filter(|c| members.contains(&c.asset_id))
                    .map(AsRef::as_ref);
                WithMetrics {
                    base: LabelBase {
                        label_id: label.map(|l| l.uuid.clone()),
                        name: label.map(|l| l.name.clone()),
                        color: label.map(|l| l.color.clone()),
                        description: label.and_then(|l| l.description.clone()),
                        assets: asset_ids.len() as i64,
                    },
                    metrics: sum(checklists),
                }
            })
            .collect()
    }

    /// Checklists grouped by default revision, ordered by benchmark id and revision.
    fn by_revision(&self) -> BTreeMap<(String, String), Vec<&Checklist>> {
        let mut groups: BTreeMap<(String, String), Vec<&Checklist>> = BTreeMap::new();
        for checklist in &self.checklists {
            let key = (checklist.benchmark_id.clone(), checklist.rev_id.clone());
            groups.entry(key).or_default().push(checklist);
        }
        groups
    }

    /// One row per STIG of the collection, at its default revision, by benchmark id.
    pub fn by_stig(&self) -> Vec<Row<StigBase>> {
        self.by_revision()
            .into_iter()
            .map(|((benchmark_id, rev_id), checklists)| {
                let rev = self.revision(&rev_id);
                let assets: BTreeSet<i64> = checklists.iter().map(|c| c.asset_id).collect();
                WithMetrics {
                    base: StigBase {
                        benchmark_id,
                        title: rev.title.clone(),
                        marking: rev.marking.clone(),
                        revision_str: rev.revision_str.clone(),
                        revision_pinned: checklists.iter().any(|c| c.pinned),
                        revision_date: rev.revision_date.clone(),
                        assets: assets.len() as i64,
                        rule_count: rev.rules.low + rev.rules.medium + rev.rules.high,
                    },
                    metrics: sum(checklists.into_iter()),
                }
            })
            .collect()
    }

    /// Totals over every collection in scope (always one object).
    pub fn meta(&self) -> Row<MetaBase> {
        let collections = self.by_collection();
        let stigs: BTreeSet<&str> =
            self.checklists.iter().map(|c| c.benchmark_id.as_str()).collect();
        let mut metrics = Counts::default();
        for row in &collections {
            metrics.add(&row.metrics);
        }
        WithMetrics {
            base: MetaBase {
                collections: collections.len() as i64,
                assets: collections.iter().map(|c| c.base.assets).sum(),
                stigs: stigs.len() as i64,
                checklists: collections.iter().map(|c| c.base.checklists).sum(),
            },
            metrics,
        }
    }

    /// One row per default revision across the collections in scope, by benchmark id.
    pub fn meta_by_stig(&self) -> Vec<Row<MetaStigBase>> {
        self.by_revision()
            .into_iter()
            .map(|((benchmark_id, rev_id), checklists)| {
                let rev = self.revision(&rev_id);
                let assets: BTreeSet<i64> = checklists.iter().map(|c| c.asset_id).collect();
                let collections: BTreeSet<i64> =
                    checklists.iter().map(|c| c.collection_id).collect();
                WithMetrics {
                    base: MetaStigBase {
                        benchmark_id,
                        title: rev.title.clone(),
                        marking: rev.marking.clone(),
                        revision_str: rev.revision_str.clone(),
                        revision_date: rev.revision_date.clone(),
                        collections: collections.len() as i64,
                        assets: assets.len() as i64,
                        rule_count: rev.rules.low + rev.rules.medium + rev.rules.high,
                    },
                    metrics: sum(checklists.into_iter()),
                }
            })
            .collect()
    }
}
