//! The dataset's PDP policies (public API).

use domo_core::policies::PolicySpec;
use pyo3::prelude::*;

use super::PyDataset;
use crate::convert::from_py::PolicyFilters;
use crate::convert::to_py;
use crate::runtime::twins;

twins! {
    impl PyDataset as Dataset {
        fn policies / policies_async(&self) -> to_py::Json {
            let ds = self.inner.clone();
            async move { ds.policies().await }
        }

        fn policy / policy_async(&self, policy_id: i64) -> to_py::Json {
            let ds = self.inner.clone();
            async move { ds.policy(policy_id).await }
        }

        #[pyo3(
            signature = (name, *, filters, users=None, groups=None, r#type="user".to_string()),
            text_signature = "(self, name, *, filters, users=None, groups=None, type='user')"
        )]
        fn create_policy / create_policy_async(
            &self,
            name: String,
            filters: PolicyFilters,
            users: Option<Vec<i64>>,
            groups: Option<Vec<i64>>,
            r#type: String,
        ) -> to_py::Json {
            let spec = PolicySpec {
                name: Some(name),
                kind: Some(r#type),
                filters: Some(filters.0),
                users,
                groups,
            };
            spec.validate(true)?;
            let ds = self.inner.clone();
            async move { ds.create_policy(&spec).await }
        }

        #[pyo3(signature = (policy_id, *, name=None, filters=None, users=None, groups=None, r#type=None))]
        fn update_policy / update_policy_async(
            &self,
            policy_id: i64,
            name: Option<String>,
            filters: Option<PolicyFilters>,
            users: Option<Vec<i64>>,
            groups: Option<Vec<i64>>,
            r#type: Option<String>,
        ) -> to_py::Json {
            let spec = PolicySpec {
                name,
                kind: r#type,
                filters: filters.map(|f| f.0),
                users,
                groups,
            };
            spec.validate(false)?;
            let ds = self.inner.clone();
            async move { ds.update_policy(policy_id, &spec).await }
        }

        fn delete_policy / delete_policy_async(&self, policy_id: i64) -> () {
            let ds = self.inner.clone();
            async move { ds.delete_policy(policy_id).await }
        }
    }
}
