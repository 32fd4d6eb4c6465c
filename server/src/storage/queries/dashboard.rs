//! The dashboard: the queries of [`crate::storage::dashboard`], compiled once per backend (see
//! [`crate::storage`]).

use async_trait::async_trait;
use chrono::Utc;
use shared::audit::{AuditAction, diff};
use shared::kpi::{Kpi, Measurement, MeasurementInput, Period, Series, Target};

use super::SqlStore;
use super::base::append_audit;
use crate::storage::common::Draft;
use crate::storage::dashboard::DashboardStore;
use crate::storage::{AuditContext, StoreError, StoreResult};

fn period(s: &str) -> StoreResult<Period> {
    Period::parse(s).ok_or_else(|| StoreError::Internal(format!("stored month `{s}`")))
}

#[async_trait]
impl DashboardStore for SqlStore {
    async fn record_measurements(&self, ctx: &AuditContext, rows: &[(MeasurementInput, Period)]) -> StoreResult<usize> {
        let mut tx = self.write_tx().await?;
        let now = Utc::now();
        let mut changed = 0;
        for (m, p) in rows {
            let before: Option<(i64, f64, String, i64)> = sqlx::query_as(
                "select measurement_id, value, source, version from measurements where series = $1 and period = $2",
            )
            .bind(m.series.as_str())
            .bind(p.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            let after = serde_json::json!({ "series": m.series.as_str(), "period": p.to_string(), "value": m.value, "source": m.source });
            let (id, version, old, action) = match before {
                Some((_, value, source, _)) if value == m.value && source == m.source => continue,
                Some((id, value, source, version)) => {
                    sqlx::query(
                        "update measurements set value = $2, source = $3, version = version + 1, updated_at = $4 \
                         where measurement_id = $1",
                    )
                    .bind(id)
                    .bind(m.value)
                    .bind(&m.source)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let old = serde_json::json!({ "series": m.series.as_str(), "period": p.to_string(), "value": value, "source": source });
                    (id, version + 1, old, AuditAction::Update)
                }
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "insert into measurements (series, period, value, source, created_at, updated_at) \
                         values ($1, $2, $3, $4, $5, $5) returning measurement_id",
                    )
                    .bind(m.series.as_str())
                    .bind(p.to_string())
                    .bind(m.value)
                    .bind(&m.source)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| {
                        if super::base::is_unique_violation(&e) {
                            StoreError::Conflict(
                                "Another import recorded this month of this series at the same moment; nothing was \
                                 saved. Send it again."
                                    .into(),
                            )
                        } else {
                            StoreError::Database(e)
                        }
                    })?;
                    (id, 1, serde_json::Value::Null, AuditAction::Create)
                }
            };
            let draft = Draft {
                action,
                record_type: "measurement",
                record_id: id,
                record_version: version,
                changes: diff(&old, &after),
                reason: None,
            };
            append_audit(&mut tx, ctx, draft).await?;
            changed += 1;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn list_measurements(&self, series: Option<Series>, from: Option<Period>) -> StoreResult<Vec<Measurement>> {
        let rows: Vec<(i64, String, String, f64, String, i64)> = sqlx::query_as(
            "select measurement_id, series, period, value, source, version from measurements \
             where ($1 is null or series = $1) and ($2 is null or period >= $2) order by period, series",
        )
        .bind(series.map(Series::as_str))
        .bind(from.map(|p| p.to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, series, p, value, source, version)| {
                Ok(Measurement {
                    id,
                    series: Series::parse(&series)
                        .ok_or_else(|| StoreError::Internal(format!("measurement {id}: series `{series}`")))?,
                    period: period(&p)?,
                    value,
                    source,
                    version,
                })
            })
            .collect()
    }

    async fn set_target(&self, ctx: &AuditContext, kpi: Kpi, from: Period, target: Target) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let now = Utc::now();
        let before: Option<(f64, f64)> =
            sqlx::query_as("select value, at_risk from kpi_targets where kpi = $1 and from_period = $2")
                .bind(kpi.as_str())
                .bind(from.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let (id, version): (i64, i64) = sqlx::query_as(
            "insert into kpi_targets (kpi, from_period, value, at_risk, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $5) on conflict (kpi, from_period) do update set value = excluded.value, \
             at_risk = excluded.at_risk, version = kpi_targets.version + 1, updated_at = excluded.updated_at \
             returning target_id, version",
        )
        .bind(kpi.as_str())
        .bind(from.to_string())
        .bind(target.value)
        .bind(target.at_risk)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let old = before.map_or(serde_json::Value::Null, |(value, at_risk)| {
            serde_json::json!({ "kpi": kpi.as_str(), "from": from.to_string(), "value": value, "at_risk": at_risk })
        });
        let after = serde_json::json!({ "kpi": kpi.as_str(), "from": from.to_string(), "value": target.value, "at_risk": target.at_risk });
        let draft = Draft {
            action: if version == 1 { AuditAction::Create } else { AuditAction::Update },
            record_type: "kpi_target",
            record_id: id,
            record_version: version,
            changes: diff(&old, &after),
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_targets(&self) -> StoreResult<Vec<(Kpi, Period, Target)>> {
        let rows: Vec<(String, String, f64, f64)> =
            sqlx::query_as("select kpi, from_period, value, at_risk from kpi_targets order by kpi, from_period")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .filter_map(|(kpi, from, value, at_risk)| {
                let kpi = Kpi::parse(&kpi)?;
                Some(period(&from).map(|p| (kpi, p, Target { value, at_risk })))
            })
            .collect()
    }

    async fn put_snapshot(&self, kpi: Kpi, period: Period, value: f64) -> StoreResult<()> {
        let _turn = self.writer_turn().await;
        sqlx::query(
            "insert into kpi_snapshots (kpi, period, value, updated_at) values ($1, $2, $3, $4) \
             on conflict (kpi, period) do update set value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(kpi.as_str())
        .bind(period.to_string())
        .bind(value)
        .bind(Utc::now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_snapshots(&self, from: Period) -> StoreResult<Vec<(Kpi, Period, f64)>> {
        let rows: Vec<(String, String, f64)> =
            sqlx::query_as("select kpi, period, value from kpi_snapshots where period >= $1 order by kpi, period")
                .bind(from.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .filter_map(|(kpi, p, value)| {
                let kpi = Kpi::parse(&kpi)?;
                Some(period(&p).map(|p| (kpi, p, value)))
            })
            .collect()
    }
}
