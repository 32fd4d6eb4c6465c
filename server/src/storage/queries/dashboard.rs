//! The dashboard: the queries of [`crate::storage::dashboard`], compiled once per backend (see
//! [`crate::storage`]).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use shared::audit::{AuditAction, diff};
use shared::auth::UserId;
use shared::kpi::{
    Cadence, DashboardLayout, Kpi, Measurement, MeasurementInput, Objective, ObjectiveId, ObjectiveInput,
    ObjectiveStatus, Period, Series, Target,
};
use shared::validation::{NOT_FOUND, RETIRED};

use super::base::{append_audit, append_audits};
use super::{Conn, Db, SqlStore, WriteTx};
use crate::storage::common::{Draft, MetaRow, field_error};
use crate::storage::dashboard::{DashboardStore, ProcessRecords};
use crate::storage::{AuditContext, Change, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct ObjectiveRow {
    objective_id: i64,
    title: String,
    kpi: String,
    target: f64,
    due_on: NaiveDate,
    owner_id: i64,
    owner_name: String,
    notes: String,
    #[sqlx(flatten)]
    meta: MetaRow,
}

const OBJECTIVE_SELECT: &str = "select o.objective_id, o.title, o.kpi, o.target, o.due_on, o.owner_id, \
     u.full_name as owner_name, o.notes, o.version, o.created_at, o.updated_at, o.retired_at, o.retired_reason \
     from quality_objectives o join users u on u.user_id = o.owner_id";

impl TryFrom<ObjectiveRow> for Objective {
    type Error = StoreError;
    fn try_from(r: ObjectiveRow) -> StoreResult<Objective> {
        let kpi = Kpi::parse(&r.kpi)
            .ok_or_else(|| StoreError::Internal(format!("quality objective {}: KPI `{}`", r.objective_id, r.kpi)))?;
        Ok(Objective {
            id: ObjectiveId(r.objective_id),
            title: r.title,
            kpi,
            target: r.target,
            due_on: r.due_on,
            owner_id: UserId(r.owner_id),
            owner_name: r.owner_name,
            notes: r.notes,
            latest: None,
            latest_period: None,
            status: ObjectiveStatus::NoData,
            meta: r.meta.into(),
        })
    }
}

async fn objective_by_id(conn: &mut Conn, id: ObjectiveId) -> StoreResult<Option<Objective>> {
    let sql = format!("{OBJECTIVE_SELECT} where o.objective_id = $1");
    let row: Option<ObjectiveRow> = sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *conn).await?;
    row.map(Objective::try_from).transpose()
}

/// What the audit trail keeps of an objective.
fn objective_json(o: &Objective) -> serde_json::Value {
    serde_json::json!({
        "title": o.title,
        "kpi": o.kpi.as_str(),
        "target": o.target,
        "due_on": o.due_on.to_string(),
        "owner_id": o.owner_id.0,
        "notes": o.notes,
        "retired": o.meta.retired_at.is_some(),
    })
}

/// The ids a query (binding `$1` to `id`) selects.
async fn ids(store: &SqlStore, sql: &str, id: i64) -> StoreResult<std::collections::HashSet<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(sql).bind(id).fetch_all(&store.pool).await?;
    Ok(rows.into_iter().map(|(i,)| i).collect())
}

/// The owner must be an active user (422 naming `owner_id`).
async fn check_owner(conn: &mut Conn, owner: UserId) -> StoreResult<()> {
    let row: Option<(Option<DateTime<Utc>>,)> = sqlx::query_as("select retired_at from users where user_id = $1")
        .bind(owner.0)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Err(field_error("owner_id", NOT_FOUND)),
        Some((Some(_),)) => Err(field_error("owner_id", RETIRED)),
        Some((None,)) => Ok(()),
    }
}

fn period(s: &str) -> StoreResult<Period> {
    Period::parse(s).ok_or_else(|| StoreError::Internal(format!("stored month `{s}`")))
}

#[async_trait]
impl DashboardStore for SqlStore {
    async fn record_measurements(&self, ctx: &AuditContext, rows: &[(MeasurementInput, Period)]) -> StoreResult<usize> {
        // The last row of a series and month counts (as if recorded one after another, with one
        // audit entry for the outcome); a row equal to what is kept changes nothing.
        let mut wanted: Vec<(&MeasurementInput, String)> = Vec::with_capacity(rows.len());
        let mut at: HashMap<(Series, String), usize> = HashMap::with_capacity(rows.len());
        for (m, p) in rows {
            let key = (m.series, p.to_string());
            match at.get(&key) {
                Some(i) => wanted[*i] = (m, key.1),
                None => {
                    at.insert(key.clone(), wanted.len());
                    wanted.push((m, key.1));
                }
            }
        }
        let (Some(lo), Some(hi)) = (wanted.iter().map(|w| &w.1).min(), wanted.iter().map(|w| &w.1).max()) else {
            return Ok(0);
        };
        let mut tx = self.write_tx().await?;
        let now = Utc::now();
        // What is kept for those months, in one read.
        let kept: Vec<(i64, String, String, f64, String, i64)> = sqlx::query_as(
            "select measurement_id, series, period, value, source, version from measurements \
             where period >= $1 and period <= $2",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *tx)
        .await?;
        let kept: HashMap<(&str, &str), (i64, f64, &str, i64)> = kept
            .iter()
            .map(|(id, series, period, value, source, version)| {
                ((series.as_str(), period.as_str()), (*id, *value, source.as_str(), *version))
            })
            .collect();
        let json = |m: &MeasurementInput, period: &str, value: f64, source: &str| {
            let series = m.series.as_str();
            serde_json::json!({ "series": series, "period": period, "value": value, "source": source })
        };
        let mut inserts: Vec<(&MeasurementInput, &str)> = Vec::new();
        // (id, new version, value, source, old json, new json)
        let mut updates: Vec<(i64, i64, &MeasurementInput, serde_json::Value, serde_json::Value)> = Vec::new();
        for (m, period) in &wanted {
            match kept.get(&(m.series.as_str(), period.as_str())) {
                Some((_, value, source, _)) if *value == m.value && *source == m.source => {}
                Some((id, value, source, version)) => updates.push((
                    *id,
                    version + 1,
                    m,
                    json(m, period, *value, source),
                    json(m, period, m.value, &m.source),
                )),
                None => inserts.push((m, period.as_str())),
            }
        }
        let mut drafts: Vec<Draft<'_>> = Vec::with_capacity(inserts.len() + updates.len());
        // Corrections: one statement per 500 (3 values each, well under both bind limits).
        for chunk in updates.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(
                "update measurements set value = v.column2, source = v.column3, version = measurements.version + 1, \
                 updated_at = ",
            );
            qb.push_bind(now).push(" from (");
            qb.push_values(chunk, |mut v, (id, _, m, ..)| {
                v.push_bind(*id).push_bind(m.value).push_bind(m.source.clone());
            });
            qb.push(") as v where measurements.measurement_id = v.column1");
            qb.build().execute(&mut *tx).await?;
        }
        for (id, version, _, old, after) in &updates {
            drafts.push(Draft {
                action: AuditAction::Update,
                record_type: "measurement",
                record_id: *id,
                record_version: *version,
                changes: diff(old, after),
                reason: None,
            });
        }
        // New months: one multi-row insert per 500, their ids returned.
        for chunk in inserts.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(
                "insert into measurements (series, period, value, source, created_at, updated_at) ",
            );
            qb.push_values(chunk, |mut v, (m, period)| {
                v.push_bind(m.series.as_str()).push_bind(*period).push_bind(m.value).push_bind(m.source.clone());
                v.push_bind(now).push_bind(now);
            });
            qb.push(" returning measurement_id, series, period");
            let ids: Vec<(i64, String, String)> = qb.build_query_as().fetch_all(&mut *tx).await.map_err(|e| {
                if super::base::is_unique_violation(&e) {
                    StoreError::Conflict(
                        "Another import recorded a month of a series at the same moment; nothing was saved. Send it \
                         again."
                            .into(),
                    )
                } else {
                    StoreError::Database(e)
                }
            })?;
            let sent: HashMap<(&str, &str), &MeasurementInput> =
                chunk.iter().map(|(m, period)| ((m.series.as_str(), *period), *m)).collect();
            for (id, series, period) in &ids {
                if let Some(m) = sent.get(&(series.as_str(), period.as_str())) {
                    drafts.push(Draft {
                        action: AuditAction::Create,
                        record_type: "measurement",
                        record_id: *id,
                        record_version: 1,
                        changes: diff(&serde_json::Value::Null, &json(m, period, m.value, &m.source)),
                        reason: None,
                    });
                }
            }
        }
        let changed = drafts.len();
        append_audits(&mut tx, ctx, drafts).await?;
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
        let before: Option<(f64, f64, String)> =
            sqlx::query_as("select value, at_risk, cadence from kpi_targets where kpi = $1 and from_period = $2")
                .bind(kpi.as_str())
                .bind(from.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let (id, version): (i64, i64) = sqlx::query_as(
            "insert into kpi_targets (kpi, from_period, value, at_risk, cadence, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6) on conflict (kpi, from_period) do update set value = excluded.value, \
             at_risk = excluded.at_risk, cadence = excluded.cadence, version = kpi_targets.version + 1, \
             updated_at = excluded.updated_at returning target_id, version",
        )
        .bind(kpi.as_str())
        .bind(from.to_string())
        .bind(target.value)
        .bind(target.at_risk)
        .bind(target.cadence.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let old = before.map_or(serde_json::Value::Null, |(value, at_risk, cadence)| {
            serde_json::json!({ "kpi": kpi.as_str(), "from": from.to_string(), "value": value, "at_risk": at_risk,
                "cadence": cadence })
        });
        let after = serde_json::json!({ "kpi": kpi.as_str(), "from": from.to_string(), "value": target.value,
            "at_risk": target.at_risk, "cadence": target.cadence.as_str() });
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
        let rows: Vec<(String, String, f64, f64, String)> = sqlx::query_as(
            "select kpi, from_period, value, at_risk, cadence from kpi_targets order by kpi, from_period",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .filter_map(|(kpi, from, value, at_risk, cadence)| {
                let kpi = Kpi::parse(&kpi)?;
                let cadence = Cadence::parse(&cadence).unwrap_or_default();
                Some(period(&from).map(|p| (kpi, p, Target { value, at_risk, cadence })))
            })
            .collect()
    }

    async fn put_snapshot(&self, kpi: Kpi, period: Period, value: f64) -> StoreResult<()> {
        let mut writer = self.writer().await?;
        sqlx::query(
            "insert into kpi_snapshots (kpi, period, value, updated_at) values ($1, $2, $3, $4) \
             on conflict (kpi, period) do update set value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(kpi.as_str())
        .bind(period.to_string())
        .bind(value)
        .bind(Utc::now())
        .execute(&mut *writer)
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

    async fn list_objectives(&self, include_retired: bool) -> StoreResult<Vec<Objective>> {
        let sql = format!("{OBJECTIVE_SELECT} where ($1 or o.retired_at is null) order by o.due_on, o.objective_id");
        let rows: Vec<ObjectiveRow> = sqlx::query_as(&sql).bind(include_retired).fetch_all(&self.pool).await?;
        rows.into_iter().map(Objective::try_from).collect()
    }

    async fn get_objective(&self, id: ObjectiveId) -> StoreResult<Option<Objective>> {
        let mut conn = self.pool.acquire().await?;
        objective_by_id(&mut conn, id).await
    }

    async fn create_objective(&self, ctx: &AuditContext, input: &ObjectiveInput) -> StoreResult<Objective> {
        let mut tx = self.write_tx().await?;
        check_owner(&mut tx, input.owner_id).await?;
        let now = Utc::now();
        let (id,): (i64,) = sqlx::query_as(
            "insert into quality_objectives (title, kpi, target, due_on, owner_id, notes, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $7) returning objective_id",
        )
        .bind(&input.title)
        .bind(input.kpi.as_str())
        .bind(input.target)
        .bind(input.due_on)
        .bind(input.owner_id.0)
        .bind(&input.notes)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let saved = objective_by_id(&mut tx, ObjectiveId(id))
            .await?
            .ok_or_else(|| StoreError::unreadable("quality_objective", id))?;
        let draft = Draft {
            action: AuditAction::Create,
            record_type: "quality_objective",
            record_id: id,
            record_version: 1,
            changes: diff(&serde_json::Value::Null, &objective_json(&saved)),
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn update_objective(
        &self,
        ctx: &AuditContext,
        id: ObjectiveId,
        version: i64,
        input: &ObjectiveInput,
    ) -> StoreResult<Change<Objective>> {
        let mut tx = self.write_tx().await?;
        let Some(before) = objective_by_id(&mut tx, id).await? else { return Ok(Change::NotFound) };
        if before.meta.retired_at.is_some() {
            return Ok(Change::Retired(before));
        }
        if before.meta.version != version {
            return Ok(Change::Stale(before));
        }
        check_owner(&mut tx, input.owner_id).await?;
        sqlx::query(
            "update quality_objectives set title = $2, kpi = $3, target = $4, due_on = $5, owner_id = $6, notes = $7, \
             version = version + 1, updated_at = $8 where objective_id = $1",
        )
        .bind(id.0)
        .bind(&input.title)
        .bind(input.kpi.as_str())
        .bind(input.target)
        .bind(input.due_on)
        .bind(input.owner_id.0)
        .bind(&input.notes)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        objective_changed(tx, ctx, before, AuditAction::Update, None).await
    }

    async fn retire_objective(
        &self,
        ctx: &AuditContext,
        id: ObjectiveId,
        version: Option<i64>,
        reason: &str,
    ) -> StoreResult<Change<Objective>> {
        let mut tx = self.write_tx().await?;
        let Some(before) = objective_by_id(&mut tx, id).await? else { return Ok(Change::NotFound) };
        if before.meta.retired_at.is_some() {
            return Ok(Change::Retired(before));
        }
        if version.is_some_and(|v| v != before.meta.version) {
            return Ok(Change::Stale(before));
        }
        let now = Utc::now();
        sqlx::query(
            "update quality_objectives set retired_at = $2, retired_reason = $3, version = version + 1, \
             updated_at = $2 where objective_id = $1",
        )
        .bind(id.0)
        .bind(now)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        objective_changed(tx, ctx, before, AuditAction::Retire, Some(reason)).await
    }

    async fn process_records(
        &self,
        process: shared::org::ProcessId,
        department: shared::org::DepartmentId,
    ) -> StoreResult<ProcessRecords> {
        let p = process.0;
        Ok(ProcessRecords {
            risks: ids(self, "select risk_id from risks where process_id = $1", p).await?,
            fmeas: ids(self, "select fmea_id from fmeas where process_id = $1", p).await?,
            documents: ids(self, "select document_id from documents where process_id = $1", p).await?,
            capas: ids(self, "select capa_id from capas where process_id = $1", p).await?,
            ncs: ids(self, "select nc_id from ncs where process_id = $1", p).await?,
            people: ids(
                self,
                "select user_id from users where department_id = $1 and retired_at is null",
                department.0,
            )
            .await?,
        })
    }

    async fn dashboard_layout(&self, user: UserId) -> StoreResult<Option<DashboardLayout>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("select tiles, version from dashboard_layouts where user_id = $1")
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(tiles, version)| DashboardLayout { tiles: DashboardLayout::parse_tiles(&tiles), version }))
    }

    async fn set_dashboard_layout(
        &self,
        ctx: &AuditContext,
        user: UserId,
        layout: &DashboardLayout,
    ) -> StoreResult<Change<DashboardLayout>> {
        let mut tx = self.write_tx().await?;
        let row: Option<(String, i64)> =
            sqlx::query_as("select tiles, version from dashboard_layouts where user_id = $1")
                .bind(user.0)
                .fetch_optional(&mut *tx)
                .await?;
        let before = row
            .map(|(tiles, version)| DashboardLayout { tiles: DashboardLayout::parse_tiles(&tiles), version })
            .unwrap_or_default();
        if before.version != layout.version {
            return Ok(Change::Stale(before));
        }
        // As notice_settings: one row per person, versioned, the change in the audit trail.
        let (version,): (i64,) = sqlx::query_as(
            "insert into dashboard_layouts (user_id, tiles, version, updated_at) values ($1, $2, 1, $3) \
             on conflict (user_id) do update set tiles = $2, version = dashboard_layouts.version + 1, updated_at = $3 \
             returning version",
        )
        .bind(user.0)
        .bind(layout.tiles_text())
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await?;
        let saved = DashboardLayout { tiles: layout.tiles.clone(), version };
        let as_json = |l: &DashboardLayout| serde_json::json!({ "tiles": l.tiles_text() });
        let draft = Draft {
            action: if version == 1 { AuditAction::Create } else { AuditAction::Update },
            record_type: "dashboard_layout",
            record_id: user.0,
            record_version: version,
            changes: diff(&as_json(&before), &as_json(&saved)),
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(Change::Done(saved))
    }
}

/// After an objective's row was written in `tx`: reads it again, audits the change from
/// `before` with `action` and `reason`, and commits.
async fn objective_changed(
    mut tx: WriteTx,
    ctx: &AuditContext,
    before: Objective,
    action: AuditAction,
    reason: Option<&str>,
) -> StoreResult<Change<Objective>> {
    let id = before.id;
    let after = objective_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("quality_objective", id.0))?;
    let draft = Draft {
        action,
        record_type: "quality_objective",
        record_id: id.0,
        record_version: after.meta.version,
        changes: diff(&objective_json(&before), &objective_json(&after)),
        reason,
    };
    append_audit(&mut tx, ctx, draft).await?;
    tx.commit().await?;
    Ok(Change::Done(after))
}
