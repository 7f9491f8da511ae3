//! Building installations without the API: grants, ACL rules and pins for tests (whose API is
//! written elsewhere), and synthetic collections, assets, assignments and reviews in bulk for
//! benchmarks.

use sqlx::Row;
use stigward_domain::Role;

use crate::access::Access;
use crate::{Result, Store, StoreError};

impl Store {
    /// Grants a user a role in a collection; returns the grant id.
    pub async fn insert_grant(&self, collection_id: i64, user_id: i64, role: Role) -> Result<i64> {
        let mut write = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO collection_grant (collection_id, user_id, role_id) VALUES ($1, $2, $3)
             RETURNING grant_id",
        )
        .bind(collection_id)
        .bind(user_id)
        .bind(role.id())
        .fetch_one(&mut *write.tx)
        .await?;
        write.commit().await?;
        Ok(row.try_get("grant_id")?)
    }

    /// Adds an ACL rule to a grant; absent parts match everything.
    pub async fn insert_acl_rule(
        &self,
        grant_id: i64,
        asset_id: Option<i64>,
        benchmark_id: Option<&str>,
        label_id: Option<i64>,
        access: Access,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO collection_grant_acl (grant_id, asset_id, benchmark_id, label_id, access)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(grant_id)
        .bind(asset_id)
        .bind(benchmark_id)
        .bind(label_id)
        .bind(access.api())
        .execute(&mut *write.tx)
        .await?;
        write.commit().await?;
        Ok(())
    }

    /// The internal id of a label known by its uuid.
    pub async fn label_id_by_uuid(&self, uuid: &str) -> Result<i64> {
        let row = sqlx::query("SELECT label_id FROM collection_label WHERE uuid = $1")
            .bind(uuid)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("label_id")?)
    }

    /// Pins a collection's STIG to a revision (`rev_id`), replacing any pin.
    pub async fn pin_revision(
        &self,
        collection_id: i64,
        benchmark_id: &str,
        rev_id: &str,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO collection_rev_map (collection_id, benchmark_id, rev_id) VALUES ($1, $2, $3)
             ON CONFLICT (collection_id, benchmark_id) DO UPDATE SET rev_id = excluded.rev_id",
        )
        .bind(collection_id)
        .bind(benchmark_id)
        .bind(rev_id)
        .execute(&mut *write.tx)
        .await?;
        write.commit().await?;
        Ok(())
    }
}
