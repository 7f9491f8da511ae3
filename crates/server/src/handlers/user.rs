//! The User tag: the requester's own record.

use axum::extract::State;
use axum::Json;
use stigward_storage::users::ClaimNames;
use stigward_wire::user::{Privileges, User};

use crate::auth::{scope, Caller};
use crate::error::ApiResult;
use crate::extract::Params;
use crate::state::AppState;

pub async fn get_user(
    caller: Caller<scope::UserRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<User>> {
    let with_prefs = params.choice("projection", &["webPreferences"])?.is_some();
    params.flag("elevate")?;
    params.finish()?;
    let names = ClaimNames { name: state.claims.name.clone(), email: state.claims.email.clone() };
    let mut user = state.store.user_info(caller.user_id, &names, with_prefs).await?;
    user.privileges = Privileges {
        create_collection: caller.privileges.create_collection,
        admin: caller.privileges.admin,
    };
    Ok(Json(user))
}
