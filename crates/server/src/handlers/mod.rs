//! Request handlers, one module per API tag. Each parses, asks the access rules, makes one call
//! into the store or the library, and shapes the reply.

pub mod appdata;
pub mod asset;
pub mod checklist;
pub mod collection;
pub mod collection_archive;
pub mod collection_report;
pub mod collection_stream;
pub mod collection_task;
pub mod finding;
pub mod job;
pub mod metrics;
pub mod operation;
pub mod operation_info;
pub mod review;
pub mod review_batch;
pub mod review_history;
pub mod stig;
pub mod user;

use axum::extract::{FromRequest, Multipart, Request};

use crate::error::{ApiError, ApiResult};

/// An uploaded file: the `importFile` field of a multipart form. A body that is not
/// multipart gets the API's error body like any other bad request.
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = Multipart::from_request(req, state).await.map_err(|rejection| {
            ApiError::UnsupportedMediaType(format!(
                "expected a multipart/form-data upload: {}",
                rejection.body_text()
            ))
        })?;
        read_upload(form).await
    }
}

async fn read_upload(mut form: Multipart) -> ApiResult<Upload> {
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("importFile") {
            let file_name = field.file_name().unwrap_or("upload").to_string();
            let bytes = field.bytes().await.map_err(multipart_error)?.to_vec();
            return Ok(Upload { file_name, bytes });
        }
    }
    Err(ApiError::Validation("request/body must have required property 'importFile'".into()))
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    match err.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(err.body_text()),
        _ => ApiError::Validation(format!("request/body: {}", err.body_text())),
    }
}

/// Refuses grants or group memberships for users that do not exist (422) or are unavailable
/// (upstream's status rule, 422).
pub(crate) async fn check_grantee_users(
    state: &crate::state::AppState,
    user_ids: &[i64],
) -> crate::error::ApiResult<()> {
    use stigward_storage::collections::GranteeUsers;
    match state.store.grantee_users(user_ids).await? {
        GranteeUsers::Available => Ok(()),
        GranteeUsers::Unavailable => Err(ApiError::UserInconsistent),
        GranteeUsers::Missing => Err(ApiError::unprocessable("One or more userIds are invalid.")),
    }
}
