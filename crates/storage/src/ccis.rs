//! DISA's CCI list: replaced whole whenever the administrator loads a newer one.

use stigward_formats::cci::Cci;

use crate::{Result, Store};

impl Store {
    /// Replaces the stored CCI list; returns the number of CCIs and references written.
    pub async fn replace_ccis(&self, ccis: &[Cci]) -> Result<(usize, usize)> {
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM cci_reference").execute(&mut *write.tx).await?;
        sqlx::query("DELETE FROM cci").execute(&mut *write.tx).await?;
        let mut references = 0;
        for cci in ccis {
            sqlx::query(
                "INSERT INTO cci (cci, definition, type, status, publish_date, contributor,
                     ap_acronym, control)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (cci) DO NOTHING",
            )
            .bind(&cci.cci)
            .bind(&cci.definition)
            .bind(&cci.cci_type)
            .bind(&cci.status)
            .bind(&cci.publish_date)
            .bind(&cci.contributor)
            .bind(cci.ap_acronym())
            .bind(cci.control())
            .execute(&mut *write.tx)
            .await?;
            for r in &cci.references {
                sqlx::query(
                    "INSERT INTO cci_reference (cci, creator, title, version, location, idx)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&cci.cci)
                .bind(&r.creator)
                .bind(&r.title)
                .bind(&r.version)
                .bind(&r.location)
                .bind(&r.index)
                .execute(&mut *write.tx)
                .await?;
                references += 1;
            }
        }
        write.commit().await?;
        Ok((ccis.len(), references))
    }
}
