//! Collection labels: their UUID ids, colours, and which assets carry them. Restricted readers
//! see only labels on assets they can reach, and `uses` counts only those assets.

use std::collections::HashSet;

use sqlx::any::AnyRow;
use sqlx::Row;
use stigward_wire::collection::{AssetRef, Label, LabelUpdate, LabelWrite};

use crate::{conflict_on_unique, Result, Store};

/// A label found by its UUID within a collection.
#[derive(Debug, Clone)]
pub struct LabelRecord {
    /// The internal key, never shown on the wire.
    pub key: i64,
    pub label: Label,
}

const LABELS: &str = "
    SELECT l.label_id, l.uuid, l.name, l.description, l.color FROM collection_label l
    WHERE l.collection_id = $1 ORDER BY l.name";

impl Store {
    /// The labels of a collection by name; with `visible`, only labels on those assets.
    pub async fn labels_of(
        &self,
        collection_id: i64,
        visible: Option<&HashSet<i64>>,
    ) -> Result<Vec<Label>> {
        let rows = sqlx::query(LABELS).bind(collection_id).fetch_all(&self.pool).await?;
        let mut out = Vec::new();
        for row in &rows {
            let record = self.label_record(row, visible).await?;
            if visible.is_none() || record.label.uses > 0 {
                out.push(record.label);
            }
        }
        Ok(out)
    }

    /// A label of this collection by UUID; `None` when it is elsewhere or absent (or, for a
    /// restricted reader, on no reachable asset).
    pub async fn label_by_uuid(
        &self,
        collection_id: i64,
        uuid: &str,
        visible: Option<&HashSet<i64>>,
    ) -> Result<Option<LabelRecord>> {
        let row = sqlx::query(
            "SELECT label_id, uuid, name, description, color FROM collection_label
             WHERE collection_id = $1 AND uuid = $2",
        )
        .bind(collection_id)
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let record = self.label_record(&row, visible).await?;
        Ok((visible.is_none() || record.label.uses > 0).then_some(record))
    }

    async fn label_record(
        &self,
        row: &AnyRow,
        visible: Option<&HashSet<i64>>,
    ) -> Result<LabelRecord> {
        let key: i64 = row.try_get("label_id")?;
        let uses = self.label_assets(key, visible).await?.len() as i64;
        Ok(LabelRecord {
            key,
            label: Label {
                label_id: row.try_get("uuid")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                color: row.try_get("color")?,
                uses,
            },
        })
    }

    /// Creates labels and returns their UUIDs; a taken name is a `Conflict`.
    pub async fn create_labels(
        &self,
        collection_id: i64,
        labels: &[LabelWrite],
    ) -> Result<Vec<String>> {
        let mut write = self.begin_write().await?;
        let ids = crate::collections::insert_labels(&mut write.tx, collection_id, labels).await?;
        write.commit().await?;
        Ok(ids)
    }

    pub async fn update_label(&self, key: i64, change: &LabelUpdate) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "UPDATE collection_label SET name = COALESCE($2, name), color = COALESCE($3, color)
             WHERE label_id = $1",
        )
        .bind(key)
        .bind(&change.name)
        .bind(&change.color)
        .execute(&mut *write.tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Duplicate label name exists."))?;
        if let Some(description) = &change.description {
            sqlx::query("UPDATE collection_label SET description = $2 WHERE label_id = $1")
                .bind(key)
                .bind(description)
                .execute(&mut *write.tx)
                .await?;
        }
        write.commit().await
    }

    /// Deletes a label with its asset tags and the ACL rules naming it.
    pub async fn delete_label(&self, key: i64) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM collection_label WHERE label_id = $1")
            .bind(key)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await
    }

    /// The enabled assets carrying a label, by name; with `visible`, only those assets.
    pub async fn label_assets(
        &self,
        key: i64,
        visible: Option<&HashSet<i64>>,
    ) -> Result<Vec<AssetRef>> {
        let rows = sqlx::query(
            "SELECT a.asset_id, a.name FROM collection_label_asset_map m
             JOIN asset a ON a.asset_id = m.asset_id AND a.state = 'enabled'
             WHERE m.label_id = $1 ORDER BY a.name",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let asset = AssetRef { asset_id: row.try_get(0)?, name: row.try_get(1)? };
            if visible.is_none_or(|v| v.contains(&asset.asset_id)) {
                out.push(asset);
            }
        }
        Ok(out)
    }

    /// Tags exactly these assets with the label.
    pub async fn set_label_assets(&self, key: i64, asset_ids: &[i64]) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM collection_label_asset_map WHERE label_id = $1")
            .bind(key)
            .execute(&mut *write.tx)
            .await?;
        for asset_id in asset_ids.iter().collect::<HashSet<_>>() {
            sqlx::query(
                "INSERT INTO collection_label_asset_map (label_id, asset_id) VALUES ($1, $2)",
            )
            .bind(key)
            .bind(asset_id)
            .execute(&mut *write.tx)
            .await?;
        }
        write.commit().await
    }

    /// Whether every id names an enabled asset of the collection.
    pub async fn all_collection_members(
        &self,
        collection_id: i64,
        asset_ids: &[i64],
    ) -> Result<bool> {
        for asset_id in asset_ids {
            let row = sqlx::query(
                "SELECT 1 FROM asset WHERE asset_id = $1 AND collection_id = $2 AND state = 'enabled'",
            )
            .bind(asset_id)
            .bind(collection_id)
            .fetch_optional(&self.pool)
            .await?;
            if row.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
