//! Who may use the dataset: its access list, sharing, revoking and its owner.

use domo_core::access::PERMISSION_COLUMNS;
use pyo3::prelude::*;

use super::PyDataset;
use crate::convert::from_py::{Id, Ids, Permissions};
use crate::convert::to_py::Json;
use crate::results::PyDomoTable;
use crate::runtime::twins;

twins! {
    impl PyDataset as Dataset {
        fn permissions / permissions_async(&self) -> Json {
            let ds = self.inner.clone();
            async move { ds.permissions().await }
        }

        fn permissions_table / permissions_table_async(&self) -> PyDomoTable {
            let ds = self.inner.clone();
            async move { PyDomoTable::from_records(&ds.permissions().await?, PERMISSION_COLUMNS) }
        }

        fn update_permissions / update_permissions_async(&self, permissions: Permissions) -> () {
            let ds = self.inner.clone();
            async move { ds.update_permissions(&permissions.0).await }
        }

        #[pyo3(signature = (permissions, *, send_email=false))]
        fn share / share_async(&self, permissions: Permissions, send_email: bool) -> () {
            let ds = self.inner.clone();
            async move { ds.share(&permissions.0, send_email).await }
        }

        fn revoke / revoke_async(&self, entity_type: String, entity_id: Id) -> () {
            let ds = self.inner.clone();
            async move { ds.revoke(&entity_type, &entity_id.0).await }
        }

        fn remove_user / remove_user_async(&self, user_id: Id) -> () {
            let ds = self.inner.clone();
            async move { ds.remove_user(&user_id.0).await }
        }

        fn remove_users / remove_users_async(&self, user_ids: Ids) -> () {
            let ds = self.inner.clone();
            async move { ds.remove_users(&user_ids.0).await }
        }

        fn owner / owner_async(&self) -> Json {
            let ds = self.inner.clone();
            async move { ds.owner().await }
        }

        #[pyo3(
            signature = (owner_id, *, owner_type="USER".to_string()),
            text_signature = "(self, owner_id, *, owner_type='USER')"
        )]
        fn set_owner / set_owner_async(&self, owner_id: Id, owner_type: String) -> () {
            let ds = self.inner.clone();
            async move { ds.set_owner(&owner_id.0, &owner_type).await }
        }
    }
}
